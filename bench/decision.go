package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
)

// The agents of the seeded demo world: Alice asks for the merges, Bob
// decides them (four eyes: the requester may not approve).
const (
	requesterAgent = "alice.agent@certdesk.example"
	deciderAgent   = "bob.agent@certdesk.example"
)

// runDecision: merge cases waiting for an agent, approved through the API
// (POST /api/v1/cases/{id}/decision, a Temporal Update and the wait for the
// case to move), timed per request.
func runDecision(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	s, err := startStack(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ids, err := waitingMerges(ctx, s, o.Cases, 8, progress)
	if err != nil {
		return nil, err
	}
	bob, err := s.web.login(ctx, deciderAgent)
	if err != nil {
		return nil, err
	}
	// A case decided in the warm-up says what the baseline runs once its
	// update is taken: the activities the case runs after the decision.
	warm := min(10, len(ids)/4)
	if sm, err := decide(ctx, s, bob, ids[:warm], 1, 0, time.Minute); err != nil || sm.errors > 0 {
		return nil, fmt.Errorf("warm-up decisions: %v (%s)", err, sm.firstErr)
	}
	ids = ids[warm:]
	after, err := activitiesAfterDecision(ctx, s)
	if err != nil {
		return nil, err
	}
	desks := make([]string, len(ids))
	for i := range desks {
		desks[i] = "baseline-desk-" + certdesk.NewID()
		if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: desks[i], TaskQueue: s.cfg.TaskQueue}, BaselineDesk, after); err != nil {
			return nil, err
		}
	}
	progress("%d baseline workflows waiting for their update; after it each runs %d local and %d regular no-ops", len(desks), after.Local, after.Regular)

	// The API's decisions and the engine's bare updates take turns.
	const turns = 4
	var api, engine samples
	var ni, nd int
	for range turns {
		ni += turn(ctx, &api, o, ids[ni:], func(ctx context.Context, id string) error {
			return s.web.do(ctx, "POST", "/api/v1/cases/"+id+"/decision", bob,
				map[string]string{"decision": "approve", "note": "same person: same name and address"}, http.StatusOK, nil)
		})
		nd += turn(ctx, &engine, o, desks[nd:], func(ctx context.Context, id string) error {
			h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: updateDecide,
				Args: []any{map[string]string{"decision": "approve"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return err
			}
			return h.Get(ctx, nil)
		})
	}
	r := api.result("decision", "approve (API)", o.Concurrency)
	b := engine.result("decision", "bare update (engine)", o.Concurrency)
	r.Ratio = ratio(r.P99ms, b.P99ms)
	goal(&r, "p99 ≤ 25 ms", r.P99ms <= 25)
	return []Result{b, r}, nil
}

// turn runs one slice of a scenario's measurement on the next items and
// says how many it used.
func turn(ctx context.Context, sm *samples, o Options, items []string, op func(ctx context.Context, id string) error) int {
	var used atomic.Int64
	began := time.Now()
	defer func() { sm.active += time.Since(began) }()
	_ = drive(ctx, o.Concurrency, o.Rate, o.Duration/4, len(items), func(ctx context.Context, i int) error {
		if i >= len(items) {
			return errDone
		}
		used.Add(1)
		start := time.Now()
		err := op(ctx, items[i])
		if cutOff(ctx) {
			return ctx.Err()
		}
		sm.add(start, err)
		return nil
	})
	return int(used.Load())
}

// activitiesAfterDecision counts the activities a decided merge case ran
// after its decision was taken.
func activitiesAfterDecision(ctx context.Context, s *stack) (BaselineInput, error) {
	var in BaselineInput
	var wf string
	if err := awaitCount(ctx, s, "SELECT count(*) FROM cases WHERE kind = 'merge' AND status = 'completed'", 1, time.Minute); err != nil {
		return in, err
	}
	if err := s.pg.QueryRow(ctx, "SELECT workflow_id FROM cases WHERE kind = 'merge' AND status = 'completed' LIMIT 1").Scan(&wf); err != nil {
		return in, err
	}
	if err := s.tc.GetWorkflow(ctx, wf, "").Get(ctx, nil); err != nil {
		return in, err
	}
	it := s.tc.GetWorkflowHistory(ctx, wf, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	decided := false
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return in, err
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			decided = true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if decided {
				in.Regular++
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if decided && ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				in.Local++
			}
		}
	}
	if !decided {
		return in, fmt.Errorf("merge case %s: no update in its history", wf)
	}
	return in, nil
}

// decide approves the cases, for at most d or until they run out, timing
// each request: at a fixed rate (rate > 0, at most conc at once) or as fast
// as conc agents can (rate 0).
func decide(ctx context.Context, s *stack, token string, ids []string, conc, rate int, d time.Duration) (*samples, error) {
	sm := &samples{}
	one := func(ctx context.Context, i int) error {
		if i >= len(ids) {
			return errDone
		}
		start := time.Now()
		err := s.web.do(ctx, "POST", "/api/v1/cases/"+ids[i]+"/decision", token,
			map[string]string{"decision": "approve", "note": "same person: same name and address"}, http.StatusOK, nil)
		if cutOff(ctx) {
			return ctx.Err()
		}
		sm.add(start, err)
		return nil
	}
	return sm, drive(ctx, conc, rate, d, len(ids), one)
}

// drive runs op on the items 0..n-1 for at most d: at a fixed rate
// (open loop) when rate > 0, else from conc goroutines back to back.
func drive(ctx context.Context, conc, rate int, d time.Duration, n int, op func(ctx context.Context, i int) error) error {
	if rate <= 0 {
		return closedLoop(ctx, conc, d, op)
	}
	arrivals, stop := context.WithCancel(ctx)
	defer stop()
	var next atomic.Int64
	openLoop(arrivals, rate, conc, d, func() {
		if i := int(next.Add(1) - 1); i < n {
			_ = op(ctx, i)
		} else {
			stop()
		}
	})
	return nil
}

// waitingMerges opens n merge cases, each between the two profiles of one
// person, and waits until every one waits for an agent.
func waitingMerges(ctx context.Context, s *stack, n, conc int, progress func(string, ...any)) ([]string, error) {
	people, err := makePeople(ctx, s.pg, shapePair, 0, n)
	if err != nil {
		return nil, err
	}
	alice, err := s.web.login(ctx, requesterAgent)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	ids := make([]string, n)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var cv caseView
				err := s.web.do(ctx, "POST", "/api/v1/merge-requests", alice,
					map[string]any{"profile_ids": people[i].profiles, "note": "duplicates: same name and address"}, http.StatusAccepted, &cv)
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				ids[i] = cv.ID
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := awaitCount(ctx, s, "SELECT count(*) FROM cases WHERE kind = 'merge' AND status = 'awaiting_agent'", n, 10*time.Minute); err != nil {
		return nil, err
	}
	progress("%d merge cases waiting for an agent (%.0f opened per second)", n, float64(n)/time.Since(began).Seconds())
	return ids, nil
}

// awaitCount polls a count query until it reaches n.
func awaitCount(ctx context.Context, s *stack, query string, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var got int
		if err := s.pg.QueryRow(ctx, query).Scan(&got); err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %d rows of %q, have %d", limit, n, query, got)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
