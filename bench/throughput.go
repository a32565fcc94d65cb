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

	// Enough learners for the busiest run this machine could do.
	n := 100 + int(o.Duration.Seconds())*60
	people, err := makePeople(ctx, s.pg, shapeAna, 0, n)
	if err != nil {
		return nil, err
	}
	tokens, err := loginAll(ctx, s.web, people, 8)
	if err != nil {
		return nil, err
	}
	progress("%d learners made and signed in", len(tokens))

	var next atomic.Int64
	connect := func(ctx context.Context) error {
		i := int(next.Add(1) - 1)
		if i >= len(tokens) {
			return errDone
		}
		var cv struct {
			caseView
			WorkflowID string `json:"workflow_id"`
		}
		if err := s.web.do(ctx, "POST", "/api/v1/connect-requests", tokens[i], nil, http.StatusAccepted, &cv); err != nil {
			return err
		}
		return s.tc.GetWorkflow(ctx, cv.WorkflowID, "").Get(ctx, nil)
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
	in, err := activitiesOf(ctx, s, first)
	if err != nil {
		return nil, err
	}
	progress("a connect case runs %d local and %d regular activities; the baseline runs as many no-ops", in.Local, in.Regular)
	baseline := func(ctx context.Context) error {
		run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "baseline-" + certdesk.NewID(), TaskQueue: s.cfg.TaskQueue}, Baseline, in)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	}
	for range 10 {
		if err := baseline(ctx); err != nil {
			return nil, fmt.Errorf("warm-up baseline: %w", err)
		}
	}

	measure := func(name string, op func(context.Context) error) (Result, error) {
		var sm samples
		err := closedLoop(ctx, o.Concurrency, o.Duration, func(ctx context.Context, _ int) error {
			start := time.Now()
			err := op(ctx)
			if err == errDone || ctx.Err() != nil {
				return err
			}
			sm.add(start, err)
			return nil
		})
		r := sm.result("throughput", name, o.Concurrency)
		progress("%s: %d in %v, %.1f/s, p50 %.1f ms, p99 %.1f ms, %d errors", name, r.Count, o.Duration, r.PerSecond, r.P50ms, r.P99ms, r.Errors)
		return r, err
	}
	cases, err := measure("connect", connect)
	if err != nil {
		return nil, err
	}
	if next.Load() >= int64(len(tokens)) {
		progress("the learners ran out before the duration: the rate is still what it was while they lasted")
	}
	// The queue drains before the baseline's turn.
	time.Sleep(2 * time.Second)
	base, err := measure("baseline", baseline)
	if err != nil {
		return nil, err
	}
	cases.Ratio = ratio(cases.PerSecond, base.PerSecond)
	if cases.Ratio != nil {
		goal(&cases, "ratio ≥ 0.85", *cases.Ratio >= 0.85)
	}
	cases.Extra = map[string]float64{"local_activities": float64(in.Local), "regular_activities": float64(in.Regular)}
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

// activitiesOf counts the activities of the connect case of a learning
// profile, from its workflow's history.
func activitiesOf(ctx context.Context, s *stack, lp string) (BaselineInput, error) {
	var in BaselineInput
	var wf string
	if err := s.pg.QueryRow(ctx, "SELECT workflow_id FROM cases WHERE learning_profile_id = $1 AND kind = 'connect'", lp).Scan(&wf); err != nil {
		return in, fmt.Errorf("the warm-up case: %w", err)
	}
	it := s.tc.GetWorkflowHistory(ctx, wf, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return in, err
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			in.Regular++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				in.Local++
			}
		}
	}
	return in, nil
}
