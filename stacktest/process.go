package stacktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is a certdesk command running as a process of its own (the
// production shape: `certdesk api`, `certdesk worker`), its output in a log
// file that the test prints when it fails. A process still running when
// the test ends is stopped as a deployment stops it.
type Process struct {
	Log    string // the log file's path
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // once exited
}

// StartProcess runs bin with args in dir (empty: the test's own) with env,
// writing its output to logPath.
func StartProcess(tb testing.TB, bin string, args, env []string, dir, logPath string) *Process {
	tb.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("start %s %v: %v", filepath.Base(bin), args, err)
	}
	p := &Process{Log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		p.Stop(StopGrace)
		if tb.Failed() {
			out, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
			if len(lines) > 300 {
				lines = lines[len(lines)-300:]
			}
			tb.Logf("---- %s (last %d lines) ----\n%s", filepath.Base(logPath), len(lines), strings.Join(lines, "\n"))
		}
	})
	return p
}

// StopGrace is how long Stop waits after SIGTERM before SIGKILL: longer
// than a worker's default stop timeout (30 s), so a graceful stop is
// never cut short.
const StopGrace = 40 * time.Second

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process exited (nil: status 0); only once it has.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it. It reports whether the process exited by itself in time.
func (p *Process) Stop(grace time.Duration) bool {
	if !p.Running() {
		return true
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return false
	}
}

// Signal sends sig to the process (SIGTERM: stop as a deployment does).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }
