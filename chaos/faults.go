package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// workers runs `certdesk worker` as a child process, kills it with SIGKILL
// and starts a new one, or replaces it as a rolling deployment does (a
// new one starts, the old one gets SIGTERM and finishes what it runs); a
// worker that exits by itself is started again and counted.
type workers struct {
	bin string
	env []string
	log io.Writer
	// stopTimeout is the workers' CERTDESK_WORKER_STOP_TIMEOUT; grace how
	// long past it the run waits for a worker sent SIGTERM before it
	// kills it (0: termGrace).
	stopTimeout, grace time.Duration

	op sync.Mutex // one Kill or Restart at a time

	mu      sync.Mutex
	cur     *proc
	killing bool
	kills   []time.Time
	starts  int
	crashes []string
	terms   []term
	stopped bool
}

// proc is one worker process.
type proc struct {
	began  time.Time
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

// term is one SIGTERM of a worker and how its process ended.
type term struct {
	At   time.Time
	Age  time.Duration // how long the worker had run
	Took time.Duration // from SIGTERM to exit
	Err  error         // its exit status (nil: 0)
	// Killed: it had not exited by its stop timeout and termGrace, and
	// was killed.
	Killed bool
}

// termMinAge is how long a worker runs at least before a rolling restart
// replaces it: one just started (after a kill) has had no time to take
// work, and its SIGTERM would show nothing.
const termMinAge = 2 * time.Second

// termSlack is the time a worker may take, past its stop timeout, to close
// its connections and exit; termGrace is when the run stops waiting and
// kills it.
const (
	termSlack = 5 * time.Second
	termGrace = 15 * time.Second
)

// start starts a worker process (the caller holds mu).
func (w *workers) start() error {
	cmd := exec.Command(w.bin, "worker")
	cmd.Env = w.env
	tail := &tailBuffer{max: 2048}
	out := io.MultiWriter(w.log, tail)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start worker: %w", err)
	}
	p := &proc{began: time.Now(), cmd: cmd, exited: make(chan struct{})}
	w.cur, w.killing = p, false
	w.starts++
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		p.err = err
		close(p.exited)
		if w.cur != p || w.killing || w.stopped {
			return // killed, replaced or stopped by the run
		}
		// Not ours: a worker that died by itself is a finding.
		w.crashes = append(w.crashes, fmt.Sprintf("%s: worker pid %d exited: %v; its last output: %s", time.Now().Format(time.TimeOnly), cmd.Process.Pid, err, tail.String()))
		if w.start() != nil {
			w.cur = nil
		}
	}()
	return nil
}

// Start starts the first worker.
func (w *workers) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.start()
}

// Kill kills the running worker with SIGKILL and starts another.
func (w *workers) Kill() error {
	w.op.Lock()
	defer w.op.Unlock()
	w.mu.Lock()
	p := w.cur
	if w.stopped || p == nil {
		w.mu.Unlock()
		return nil
	}
	w.killing = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	w.kills = append(w.kills, time.Now())
	w.mu.Unlock()
	<-p.exited
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil
	}
	return w.start()
}

// Restart replaces the running worker as a rolling deployment does: a new
// worker starts and the old one gets SIGTERM, takes no new task and has
// its stop timeout to finish the activities it runs, then exits. Restart
// returns once it has (or was killed, the grace past its stop timeout).
// Meanwhile the SIGKILLs go to the new worker.
func (w *workers) Restart() error {
	w.op.Lock() // no kill meanwhile
	w.mu.Lock()
	old := w.cur
	if w.stopped || old == nil {
		w.mu.Unlock()
		w.op.Unlock()
		return nil
	}
	if young := termMinAge - time.Since(old.began); young > 0 {
		w.mu.Unlock()
		time.Sleep(young)
		w.mu.Lock()
		if old = w.cur; w.stopped || old == nil { // it crashed meanwhile
			w.mu.Unlock()
			w.op.Unlock()
			return nil
		}
	}
	if err := w.start(); err != nil {
		w.cur = old
		w.mu.Unlock()
		w.op.Unlock()
		return err
	}
	t := term{At: time.Now(), Age: time.Since(old.began)}
	_ = old.cmd.Process.Signal(syscall.SIGTERM)
	w.mu.Unlock()
	w.op.Unlock()

	select {
	case <-old.exited:
	case <-time.After(w.stopTimeout + w.graceOr()):
		_ = old.cmd.Process.Kill()
		t.Killed = true
		<-old.exited
	}
	t.Took, t.Err = time.Since(t.At), old.err
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.Killed {
		w.kills = append(w.kills, time.Now())
	}
	w.terms = append(w.terms, t)
	return nil
}

func (w *workers) graceOr() time.Duration {
	if w.grace > 0 {
		return w.grace
	}
	return termGrace
}

// violations are the SIGTERMs a worker did not answer as it should: by
// exiting with status 0 within its stop timeout (and termSlack).
func (w *workers) violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, t := range w.terms {
		at := t.At.Format(time.TimeOnly)
		switch {
		case t.Killed:
			out = append(out, fmt.Sprintf("%s: a worker sent SIGTERM had not exited %v later (stop timeout %v) and was killed", at, t.Took.Round(time.Millisecond), w.stopTimeout))
		case t.Took > w.stopTimeout+termSlack:
			out = append(out, fmt.Sprintf("%s: a worker sent SIGTERM took %v to exit, past its stop timeout %v", at, t.Took.Round(time.Millisecond), w.stopTimeout))
		case t.Err != nil:
			out = append(out, fmt.Sprintf("%s: a worker sent SIGTERM exited with %v, not 0", at, t.Err))
		}
	}
	return out
}

// Terms lists the SIGTERMs and how each ended.
func (w *workers) Terms() []term {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]term(nil), w.terms...)
}

// Stop stops the worker as a deployment would (SIGTERM).
func (w *workers) Stop() {
	w.op.Lock()
	defer w.op.Unlock()
	w.mu.Lock()
	w.stopped = true
	p := w.cur
	w.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(w.stopTimeout + w.graceOr()):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Kills returns when the workers were killed.
func (w *workers) Kills() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.kills...)
}

// every runs f at intervals around d (±50 %) until ctx is done or f has
// run max times (0: no limit).
func every(ctx context.Context, d time.Duration, max int, f func()) {
	if d <= 0 {
		return
	}
	for n := 0; max == 0 || n < max; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(d/2 + rand.N(d)):
		}
		f()
	}
}

// dropper drops every connection to the run's database, as a PostgreSQL
// restart or a network cut would.
type dropper struct {
	admin  *sql.DB
	dbname string

	mu         sync.Mutex
	drops      int
	terminated int
	errs       []string
}

// Drop terminates the database's connections for a second and a half:
// again every 150 ms, so the pools' new connections are cut as well.
func (d *dropper) Drop(ctx context.Context) {
	n := 0
	var lastErr error
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(150 * time.Millisecond) {
		var k int
		err := d.admin.QueryRowContext(ctx,
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, d.dbname).Scan(&k)
		if err != nil {
			lastErr = err
			continue
		}
		n += k
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drops++
	d.terminated += n
	if lastErr != nil {
		d.errs = append(d.errs, lastErr.Error())
	}
}

func (d *dropper) counts() (drops, terminated int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drops, d.terminated
}

// tailBuffer keeps the last max bytes written to it: what a crashed
// worker said last, for the report (its log file goes with the run's
// folder).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
