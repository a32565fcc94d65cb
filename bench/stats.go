package bench

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// samples collects the latencies of one measured operation.
type samples struct {
	mu     sync.Mutex
	d      []time.Duration
	errors int
	// firstErr is the first error, to say what went wrong.
	firstErr string
	first    time.Time
	last     time.Time
	// active, when set, is the time the operation was being measured (the
	// sum of its slices when two operations took turns); the rate is over
	// it instead of first start to last end.
	active time.Duration
}

func (s *samples) add(start time.Time, err error) {
	end := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.errors == 0 {
			s.firstErr = err.Error()
		}
		s.errors++
		return
	}
	s.d = append(s.d, end.Sub(start))
	if s.first.IsZero() || start.Before(s.first) {
		s.first = start
	}
	if end.After(s.last) {
		s.last = end
	}
}

// result summarizes the samples: count, errors, rate over the time from
// the first start to the last end, and the percentiles.
func (s *samples) result(scenarioName, name string, conc int) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Result{Scenario: scenarioName, Name: name, Concurrency: conc, Count: len(s.d), Errors: s.errors, FirstError: s.firstErr}
	if len(s.d) == 0 {
		return r
	}
	d := slices.Clone(s.d)
	slices.Sort(d)
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = ms(percentile(d, 0.50)), ms(percentile(d, 0.90)), ms(percentile(d, 0.99)), ms(d[len(d)-1])
	span := s.last.Sub(s.first)
	if s.active > 0 {
		span = s.active
	}
	if span > 0 {
		r.PerSecond = float64(len(d)) / span.Seconds()
	}
	return r
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// closedLoop runs op from conc goroutines, each starting its next as soon
// as its last ended, until the duration is over or op says there is no more
// work (errDone). Each op is timed by the caller through s.
func closedLoop(ctx context.Context, conc int, d time.Duration, op func(ctx context.Context, n int) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		first error
		once  sync.Once
	)
	for range conc {
		wg.Go(func() {
			for !cutOff(ctx) {
				err := op(ctx, int(n.Add(1)-1))
				if err == errDone {
					return
				}
				if err != nil && !cutOff(ctx) {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// openLoop starts op rate times a second for the duration, whether the
// earlier ones have ended or not (at most conc at once), so a slow answer
// does not slow the arrivals down and hide itself. Arrivals stop when ctx
// is done; the ones started run to their end.
func openLoop(ctx context.Context, rate, conc int, d time.Duration, op func()) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.After(d)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			return
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				continue // every slot busy: this arrival is dropped, as the count shows
			}
			wg.Go(func() {
				defer func() { <-sem }()
				op()
			})
		}
	}
}

type doneError struct{}

func (doneError) Error() string { return "no more work" }

var errDone error = doneError{}

// Machine is what the figures came from.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Memory string `json:"memory"`
	OS     string `json:"os"`
	Go     string `json:"go"`
}

// ThisMachine describes the machine the run is on.
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	m.CPU = firstField("/proc/cpuinfo", "model name")
	if kb := firstField("/proc/meminfo", "MemTotal"); kb != "" {
		m.Memory = kb
	}
	return m
}

func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// span is the time from the first start to the last end.
func (s *samples) span() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Sub(s.first)
}

// cutOff reports whether an operation's time is up: its context is done,
// or its deadline has passed (a gRPC call's own timer can end the call with
// DeadlineExceeded a moment before the context says so). What was cut off
// is neither a sample nor an error.
func cutOff(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
