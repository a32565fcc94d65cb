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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/certdesk/certdesk"
)

// runThroughput: connect cases on the path that needs no human, asked for
// through the API by Ana-like learners, from the request to the workflow's
// completion; then the baseline, started with the Temporal client, from the
// start to its completion, at the same concurrency on the same stack.
func runThroughput(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	s, err := startStack(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	defer s.close()

	connect, next, people, err := connectCases(ctx, s, 100+int(o.Duration.Seconds())*80, progress)
	if err != nil {
		return nil, err
	}

	// Warm up, and read from a finished case what the baseline must run.
	var first string
	for range 10 {
		i := int(next.Load())
		if err := connect(ctx); err != nil {
			return nil, fmt.Errorf("warm-up case: %w", err)
		}
		if first == "" {
			first = people[i].lp
		}
	}
	var wf string
	if err := s.pg.QueryRow(ctx, "SELECT workflow_id FROM cases WHERE learning_profile_id = $1 AND kind = 'connect'", first).Scan(&wf); err != nil {
		return nil, fmt.Errorf("the warm-up case: %w", err)
	}
	ch, err := historyOf(ctx, s, wf)
	if err != nil {
		return nil, err
	}
	in := ch.in
	progress("a connect case runs %d local and %d regular activities; the baseline runs as many no-ops", in.Local, in.Regular)
	baseline := func(ctx context.Context) error {
		run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "baseline-" + certdesk.NewID(), TaskQueue: s.cfg.TaskQueue}, Baseline, in)
		if err != nil {
			return err
		}
		return awaitWorkflow(ctx, s, run.GetID())
	}
	var bh history
	for i := range 10 {
		id := "baseline-warm-" + certdesk.NewID()
		run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.cfg.TaskQueue}, Baseline, in)
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err == nil && i == 0 {
			bh, err = historyOf(ctx, s, id)
		}
		if err != nil {
			return nil, fmt.Errorf("warm-up baseline: %w", err)
		}
	}
	progress("history: a connect case %d events in %d workflow tasks, the baseline %d events in %d", ch.events, ch.tasks, bh.events, bh.tasks)

	// The two take turns, a slice each, so that a machine getting slower or
	// faster during the run weighs on both alike.
	const turns = 4
	slice := o.Duration / turns
	var caseSm, baseSm samples
	measure := func(sm *samples, op func(context.Context) error) error {
		return measureTurn(ctx, o.Concurrency, slice, sm, op)
	}
	for range turns {
		if err := measure(&caseSm, connect); err != nil {
			return nil, err
		}
		if err := measure(&baseSm, baseline); err != nil {
			return nil, err
		}
	}
	if next.Load() >= int64(len(people)) {
		progress("the learners ran out before the duration: the rate is still what it was while they lasted")
	}
	cases, base := caseSm.result("throughput", "connect", o.Concurrency), baseSm.result("throughput", "baseline", o.Concurrency)
	for _, r := range []Result{base, cases} {
		progress("%s: %d in %v, %.1f/s, p50 %.1f ms, p99 %.1f ms, %d errors", r.Name, r.Count, o.Duration, r.PerSecond, r.P50ms, r.P99ms, r.Errors)
	}
	cases.Ratio = ratio(cases.PerSecond, base.PerSecond)
	if cases.Ratio != nil {
		goal(&cases, "ratio ≥ 0.85", *cases.Ratio >= 0.85)
	}
	cases.Extra = map[string]float64{"local_activities": float64(in.Local), "regular_activities": float64(in.Regular),
		"history_events": float64(ch.events), "workflow_tasks": float64(ch.tasks)}
	base.Extra = map[string]float64{"history_events": float64(bh.events), "workflow_tasks": float64(bh.tasks)}
	return []Result{base, cases}, nil
}

// loginAll signs the people in (conc at once) and returns their tokens.
func loginAll(ctx context.Context, c *httpClient, people []person, conc int) ([]string, error) {
	tokens := make([]string, len(people))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  atomic.Int64
	)
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(people) {
					return
				}
				tok, err := c.login(ctx, people[i].signIn)
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				tokens[i] = tok
			}
		})
	}
	wg.Wait()
	return tokens, first
}

// awaitWorkflow waits for a workflow to complete. The wait is a long poll
// that the server may end early under load (the stream is cancelled): that
// is not the workflow failing, and the wait goes on.
func awaitWorkflow(ctx context.Context, s *stack, id string) error {
	for {
		err := s.tc.GetWorkflow(ctx, id, "").Get(ctx, nil)
		if err == nil || ctx.Err() != nil || status.Code(err) != codes.Canceled {
			return err
		}
	}
}

// history summarizes a workflow's history: its activities, its events and
// its workflow tasks.
type history struct {
	in            BaselineInput
	events, tasks int
}

// historyOf reads a workflow's history.
func historyOf(ctx context.Context, s *stack, workflowID string) (history, error) {
	var h history
	it := s.tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return h, err
		}
		h.events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			h.in.Regular++
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			h.tasks++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				h.in.Local++
			}
		}
	}
	return h, nil
}

// connectCases makes n Ana-like learners, signs them in, and returns the
// operation that asks for one's connect case through the API and waits for
// its workflow to complete (errDone when the learners run out), with the
// count of learners used.
func connectCases(ctx context.Context, s *stack, n int, progress func(string, ...any)) (func(context.Context) error, *atomic.Int64, []person, error) {
	people, err := makePeople(ctx, s.pg, shapeAna, 0, n)
	if err != nil {
		return nil, nil, nil, err
	}
	tokens, err := loginAll(ctx, s.web, people, 8)
	if err != nil {
		return nil, nil, nil, err
	}
	progress("%d learners made and signed in", len(tokens))
	next := &atomic.Int64{}
	connect := func(ctx context.Context) error {
		i := int(next.Add(1) - 1)
		if i >= len(tokens) {
			return errDone
		}
		var cv caseView
		if err := s.web.do(ctx, "POST", "/api/v1/connect-requests", tokens[i], nil, http.StatusAccepted, &cv); err != nil {
			return err
		}
		// A learner's view of a case names no workflow: the bench reads
		// it where the case is kept.
		var wf string
		if err := s.pg.QueryRow(ctx, "SELECT workflow_id FROM cases WHERE id = $1", cv.ID).Scan(&wf); err != nil {
			return fmt.Errorf("case %s: %w", cv.ID, err)
		}
		return awaitWorkflow(ctx, s, wf)
	}
	return connect, next, people, nil
}

// measureTurn runs op in a closed loop for one turn of d, adding what it
// took to sm (and the turn's time to its active time); what the cut-off
// left running drains for a second before the next turn.
func measureTurn(ctx context.Context, conc int, d time.Duration, sm *samples, op func(context.Context) error) error {
	began := time.Now()
	err := closedLoop(ctx, conc, d, func(ctx context.Context, _ int) error {
		start := time.Now()
		err := op(ctx)
		if err == errDone || cutOff(ctx) {
			return err
		}
		sm.add(start, err)
		return nil
	})
	sm.active += time.Since(began)
	time.Sleep(time.Second)
	return err
}
