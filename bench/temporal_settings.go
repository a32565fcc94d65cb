package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	clustertemporal "github.com/certdesk/certdesk/deploy/temporal"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/webhook"
	"github.com/certdesk/certdesk/worker"
)

// temporalSettings: connect cases on a Temporal server in a cluster's
// shape — PostgreSQL, 4 history shards, run as its own process (`certdesk
// temporal serve`) — once on the server's default dynamic config and once
// on deploy/temporal/dynamicconfig.yaml, each on fresh databases, with two
// workers (two clients) as in production. Per settings: the cases from the
// request to the workflow's completion, and from the workflows' histories
// how long their tasks waited to reach a worker (schedule-to-start:
// workflow tasks on the task queue, workflow tasks on a worker's sticky
// queue, activity tasks).
var temporalSettings = scenario{run: runTemporalSettings, embeddedOnly: true, defaults: func(o *Options) {
	defaultTo(&o.Cases, 200)
	defaultTo(&o.Concurrency, 10)
	defaultTo(&o.Duration, 10*time.Minute) // the most one settings' cases may take
}}

// warmCases run before each measurement, unmeasured: the first case on a
// new server also pays for loading the namespace and the task queues.
const warmCases = 10

func runTemporalSettings(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	bin, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "certdesk-bench-temporal-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	documented := filepath.Join(dir, "dynamicconfig.yaml")
	if err := os.WriteFile(documented, clustertemporal.DynamicConfig, 0o600); err != nil {
		return nil, err
	}
	var runs []*settingsRun
	defer func() {
		for _, r := range runs {
			r.close()
		}
	}()
	for _, v := range []struct{ name, file string }{{"default", ""}, {"documented", documented}} {
		r, err := startSettings(ctx, o, bin, dir, v.name, v.file, progress)
		if err != nil {
			return nil, fmt.Errorf("%s settings: %w", v.name, err)
		}
		runs = append(runs, r)
	}
	// The two take turns, a slice of the cases each, so that a machine
	// getting slower or faster during the run (it is shared) weighs on both
	// alike.
	const turns = 4
	for t := range turns {
		for _, r := range runs {
			if err := r.turn(ctx, o, warmCases+o.Cases*(t+1)/turns); err != nil {
				return nil, fmt.Errorf("%s settings: %w", r.name, err)
			}
		}
	}
	var results []Result
	for _, r := range runs {
		rs, err := r.results(ctx, o, progress)
		if err != nil {
			return nil, fmt.Errorf("%s settings: %w", r.name, err)
		}
		results = append(results, rs...)
	}
	return results, nil
}

// settingsRun is one dynamic config's server, stack and cases.
type settingsRun struct {
	name    string
	s       *stack
	connect func(context.Context) error
	next    *atomic.Int64
	people  []person
	sm      samples
	closers []func()
}

func (r *settingsRun) close() {
	if r.s != nil {
		r.s.close()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// startSettings starts a fresh server with one dynamic config (none: the
// server's defaults), its stack, and warms it up.
func startSettings(ctx context.Context, o Options, bin, dir, name, dynamicConfig string, progress func(string, ...any)) (r *settingsRun, err error) {
	r = &settingsRun{name: name}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	tURL, dropTemporal, err := temporalDatabases(ctx, o.PostgresURL)
	if err != nil {
		return r, err
	}
	r.closers = append(r.closers, dropTemporal)
	began := time.Now()
	proc, hostPort, err := startTemporalProcess(ctx, bin, tURL, dynamicConfig, filepath.Join(dir, "temporal-"+name+".log"))
	if err != nil {
		return r, err
	}
	r.closers = append(r.closers, proc.stop)
	progress("%s settings: Temporal on PostgreSQL (%s) at %s, its own process, ready in %.1f s", name, store.DatabaseName(tURL), hostPort, time.Since(began).Seconds())
	if r.s, err = startRemoteStack(ctx, o, hostPort, name, progress); err != nil {
		return r, err
	}
	if r.connect, r.next, r.people, err = connectCases(ctx, r.s, warmCases+o.Cases, progress); err != nil {
		return r, err
	}
	for range warmCases {
		if err := r.connect(ctx); err != nil {
			return r, fmt.Errorf("warm-up case: %w", err)
		}
	}
	return r, nil
}

// turn runs cases, o.Concurrency at once, until until of the learners
// have asked.
func (r *settingsRun) turn(ctx context.Context, o Options, until int) error {
	began := time.Now()
	err := closedLoop(ctx, o.Concurrency, o.Duration, func(ctx context.Context, _ int) error {
		if int(r.next.Load()) >= until {
			return errDone
		}
		t := time.Now()
		err := r.connect(ctx)
		if err == errDone || cutOff(ctx) {
			return err
		}
		r.sm.add(t, err)
		return nil
	})
	r.sm.active += time.Since(began)
	return err
}

// results are the cases' latencies and, from their histories, how long
// their tasks waited to reach a worker.
func (r *settingsRun) results(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	cases := r.sm.result("temporal-settings", r.name+": case", o.Concurrency)
	progress("%s settings: %d cases (%.1f/s), p50 %.0f ms, p99 %.0f ms, %d errors", r.name, cases.Count, cases.PerSecond, cases.P50ms, cases.P99ms, cases.Errors)
	lps := make([]string, 0, o.Cases)
	for _, p := range r.people[warmCases:] {
		lps = append(lps, p.lp)
	}
	waits, err := scheduleToStart(ctx, r.s, lps)
	if err != nil {
		return nil, err
	}
	results := []Result{cases}
	for _, k := range []string{"workflow task", "sticky workflow task", "activity task"} {
		res := durations("temporal-settings", r.name+": "+k+" schedule-to-start", waits[k])
		progress("%s settings: %s schedule-to-start p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d tasks)", r.name, k, res.P50ms, res.P99ms, res.MaxMs, res.Count)
		results = append(results, res)
	}
	return results, nil
}

// temporalDatabases creates the server's two databases (main and
// visibility, as temporal-sql-tool lays them out) and returns the main
// one's URL and what drops both.
func temporalDatabases(ctx context.Context, adminURL string) (string, func(), error) {
	tURL, drop, admin, err := store.CreateDatabase(ctx, adminURL, "certdesk_bench_temporal_")
	if err != nil {
		return "", nil, err
	}
	vis := store.DatabaseName(tURL) + "_visibility"
	dropBoth := func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + vis + " WITH (FORCE)"); err != nil {
			slog.Warn("drop database", "database", vis, "err", err)
		}
		drop()
		admin.Close()
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+vis); err != nil {
		dropBoth()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	return tURL, dropBoth, nil
}

// temporalProcess is `certdesk temporal serve` started by the bench.
type temporalProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startTemporalProcess starts the server as its own process and waits
// for the line that names its address.
func startTemporalProcess(ctx context.Context, bin, pgURL, dynamicConfig, logFile string) (*temporalProcess, string, error) {
	args := []string{"temporal", "serve", "--postgres", pgURL, "--port", "0", "--log-file", logFile}
	if dynamicConfig != "" {
		args = append(args, "--dynamic-config", dynamicConfig)
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("%s temporal serve: %w", bin, err)
	}
	p := &temporalProcess{cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	select {
	case line := <-lines:
		const prefix = "temporal serving on "
		if addr, _, ok := strings.Cut(strings.TrimPrefix(line, prefix), " "); ok && strings.HasPrefix(line, prefix) {
			return p, addr, nil
		}
		p.stop()
		return nil, "", fmt.Errorf("temporal serve said %q", line)
	case <-p.exited:
		return nil, "", fmt.Errorf("temporal serve exited (%v): %s (is %s certdesk? run the scenario with certdesk bench)",
			cmd.ProcessState, strings.TrimSpace(stderr.String()), bin)
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, "", errors.New("temporal serve: not serving after 2 minutes")
	case <-ctx.Done():
		p.stop()
		return nil, "", ctx.Err()
	}
}

// stop asks the server to stop (SIGINT, as ^C) and kills it after 20 s.
func (p *temporalProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// startRemoteStack is startStack on a Temporal server elsewhere: its own
// certdesk database, the API on a local port, and two workers on the run's
// task queue, each with its own client (two processes' worth of pollers).
func startRemoteStack(ctx context.Context, o Options, hostPort, name string, progress func(string, ...any)) (s *stack, err error) {
	s = &stack{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := s.openDatabase(ctx, o); err != nil {
		return s, err
	}

	// As devserver.Scratch, on this address.
	if s.cfg, err = config.Load(config.ModeDev, config.MapEnv{}); err != nil {
		return s, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	s.cfg.DatabaseURL, s.cfg.HTTPAddr, s.cfg.PublicURL = s.dbURL, ln.Addr().String(), "http://"+ln.Addr().String()
	s.cfg.Secret, s.cfg.PayloadKeys = certdesk.NewID()+certdesk.NewID(), codec.NewKey("bench1")
	s.cfg.TaskQueue = "bench-" + name + "-" + strings.ToLower(certdesk.NewID())
	s.cfg.Temporal.Address, s.cfg.Temporal.Namespace = hostPort, devserver.Namespace
	s.cfg.TrustedProxies = []string{"127.0.0.1"}
	cd, err := codec.Parse(s.cfg.PayloadKeys)
	if err != nil {
		ln.Close()
		return s, err
	}
	dial := func() (client.Client, error) {
		return client.Dial(cd.Client(client.Options{HostPort: hostPort, Namespace: devserver.Namespace,
			Logger: sdklog.NewStructuredLogger(quiet)}))
	}
	if s.tc, err = dial(); err != nil {
		ln.Close()
		return s, err
	}
	s.closers = append(s.closers, s.tc.Close)
	slog.SetDefault(quiet)
	hs := &http.Server{Handler: server.New(server.Deps{Config: s.cfg, Store: s.st, Temporal: s.tc}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.closers = append(s.closers, func() { hs.Close() })
	s.web = newHTTPClient(s.cfg.PublicURL, "")
	s.acts = &activities.Activities{Store: s.st, Mailer: activities.CaptureMailer(s.st), Links: activities.Links{BaseURL: s.cfg.PublicURL},
		Webhooks: &activities.Webhooks{Sender: webhook.NewSender(10*time.Second, true)}}
	if err := s.startWorker(); err != nil {
		return s, err
	}
	second, err := dial()
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, second.Close)
	w2 := worker.New(second, s.cfg, s.acts)
	if err := w2.Start(); err != nil {
		return s, fmt.Errorf("second worker: %w", err)
	}
	s.closers = append(s.closers, w2.Stop)
	progress("%s settings: API at %s, two workers on %s", name, s.cfg.PublicURL, s.cfg.TaskQueue)
	return s, nil
}

// scheduleToStart reads the connect cases' histories (the learning
// profiles') and returns, by kind of task, how long each task waited from
// being scheduled to a worker taking it.
func scheduleToStart(ctx context.Context, s *stack, lps []string) (map[string][]time.Duration, error) {
	rows, err := s.pg.Query(ctx, "SELECT workflow_id FROM cases WHERE kind = 'connect' AND learning_profile_id = ANY($1)", lps)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	waits := map[string][]time.Duration{}
	for _, id := range ids {
		scheduled := map[int64]time.Time{}
		sticky := map[int64]bool{}
		it := s.tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", id, err)
			}
			at := ev.GetEventTime().AsTime()
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
				scheduled[ev.GetEventId()] = at
				sticky[ev.GetEventId()] = ev.GetWorkflowTaskScheduledEventAttributes().GetTaskQueue().GetKind() == enumspb.TASK_QUEUE_KIND_STICKY
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				scheduled[ev.GetEventId()] = at
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				sid := ev.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId()
				kind := "workflow task"
				if sticky[sid] {
					kind = "sticky workflow task"
				}
				if t, ok := scheduled[sid]; ok {
					waits[kind] = append(waits[kind], at.Sub(t))
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if t, ok := scheduled[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; ok {
					waits["activity task"] = append(waits["activity task"], at.Sub(t))
				}
			}
		}
	}
	return waits, nil
}

// durations summarizes measured waits that are not operations of the
// bench (no rate).
func durations(scenarioName, name string, d []time.Duration) Result {
	r := Result{Scenario: scenarioName, Name: name, Count: len(d)}
	if len(d) == 0 {
		return r
	}
	d = slices.Clone(d)
	slices.Sort(d)
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = ms(percentile(d, 0.50)), ms(percentile(d, 0.90)), ms(percentile(d, 0.99)), ms(d[len(d)-1])
	return r
}
