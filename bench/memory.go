package bench

import (
	"context"
	"runtime"
	"strconv"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
)

// runMemory: Cases merge cases waiting for an agent, held by the worker's
// sticky cache. What the worker holds for them is the live heap and the
// goroutine stacks it gives back when it stops (the cache is emptied with
// the last worker), per waiting case. Then the time for a batch of them
// (the first 1,000) to react to a decision, first on the warm worker, then,
// on another batch, right after the worker was restarted, when each case's
// history must be replayed before it can take the decision.
func runMemory(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	s, err := startStack(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	defer s.close()
	m0 := liveMemory()
	ids, err := waitingMerges(ctx, s, o.Cases, o.Concurrency, progress)
	if err != nil {
		return nil, err
	}
	bob, err := s.web.login(ctx, deciderAgent)
	if err != nil {
		return nil, err
	}
	batch := min(1000, len(ids)/4)

	warm, err := decide(ctx, s, bob, ids[:batch], o.Concurrency, 0, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	if err := awaitCount(ctx, s, "SELECT count(*) FROM cases WHERE kind = 'merge' AND status = 'completed'", batch, 5*time.Minute); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // the approved cases' last tasks end and leave the cache
	waiting := len(ids) - batch
	m1 := liveMemory()
	s.stopWorker()
	sdkworker.PurgeStickyWorkflowCache()
	m2 := liveMemory()
	progress("worker holding %d waiting cases: heap %s + stacks %s; stopped: heap %s + stacks %s",
		waiting, kb(m1.heap), kb(m1.stacks), kb(m2.heap), kb(m2.stacks))
	if err := s.startWorker(); err != nil {
		return nil, err
	}
	cold, err := decide(ctx, s, bob, ids[batch:2*batch], o.Concurrency, 0, 10*time.Minute)
	if err != nil {
		return nil, err
	}

	perCase := float64(m1.total()-m2.total()) / float64(waiting) / 1024
	held := Result{Scenario: "memory", Name: "waiting case (worker)", Count: waiting, Extra: map[string]float64{
		"kb_per_case_worker":          perCase,
		"kb_per_case_heap":            float64(m1.heap-m2.heap) / float64(waiting) / 1024,
		"kb_per_case_stacks":          float64(m1.stacks-m2.stacks) / float64(waiting) / 1024,
		"goroutines_per_case":         float64(m1.goroutines-m2.goroutines) / float64(waiting),
		"kb_per_case_whole_process":   float64(m1.total()-m0.total()) / float64(len(ids)) / 1024,
		"mb_worker_for_all_the_cases": float64(m1.total()-m2.total()) / (1 << 20),
	}}
	goal(&held, "≤ 50 KB per waiting case", perCase <= 50)
	w := warm.result("memory", "react, warm worker", o.Concurrency)
	c := cold.result("memory", "react, restarted worker", o.Concurrency)
	w.Extra = map[string]float64{"seconds_for_the_batch": warm.span().Seconds()}
	c.Extra = map[string]float64{"seconds_for_the_batch": cold.span().Seconds()}
	c.Ratio = ratio(cold.span().Seconds(), warm.span().Seconds())
	if c.Ratio != nil {
		goal(&c, "≤ 2× warm", *c.Ratio <= 2)
	}
	return []Result{held, w, c}, nil
}

type memory struct {
	heap, stacks uint64
	goroutines   int
}

func (m memory) total() int64 { return int64(m.heap + m.stacks) }

// liveMemory is the live heap and the stacks after a full collection.
func liveMemory() memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: ms.HeapAlloc, stacks: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

func kb(n uint64) string { return strconv.FormatUint(n/1024, 10) + " KB" }
