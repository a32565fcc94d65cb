package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
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
	sm, err := decide(ctx, s, bob, ids, o.Concurrency, o.Rate, o.Duration)
	if err != nil {
		return nil, err
	}
	r := sm.result("decision", "approve", o.Concurrency)
	goal(&r, "p99 ≤ 25 ms", r.P99ms <= 25)
	return []Result{r}, nil
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
		if ctx.Err() != nil {
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
