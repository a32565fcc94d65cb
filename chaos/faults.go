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
// and starts a new one; a worker that exits by itself is started again and
// counted.
type workers struct {
	bin string
	env []string
	log io.Writer

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killing bool
	kills   []time.Time
	starts  int
	crashes []string
	stopped bool
}

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
	w.cmd, w.exited, w.killing = cmd, make(chan struct{}), false
	w.starts++
	exited := w.exited
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		close(exited)
		if w.cmd != cmd || w.killing || w.stopped {
			return
		}
		// Not ours: a worker that died by itself is a finding.
		w.crashes = append(w.crashes, fmt.Sprintf("%s: worker pid %d exited: %v; its last output: %s", time.Now().Format(time.TimeOnly), cmd.Process.Pid, err, tail.String()))
		if w.start() != nil {
			w.cmd = nil
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
	w.mu.Lock()
	if w.stopped || w.cmd == nil {
		w.mu.Unlock()
		return nil
	}
	w.killing = true
	exited := w.exited
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	w.kills = append(w.kills, time.Now())
	w.mu.Unlock()
	<-exited
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil
	}
	return w.start()
}

// Stop stops the worker as a deployment would (SIGTERM).
func (w *workers) Stop() {
	w.mu.Lock()
	w.stopped = true
	cmd, exited := w.cmd, w.exited
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(35 * time.Second): // past the worker's 30 s stop timeout
		_ = cmd.Process.Kill()
		<-exited
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
