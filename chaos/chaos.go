// Package chaos is certdesk's fault run: a few hundred cases of every kind
// driven through the HTTP API to their ends, while the worker process is
// killed with SIGKILL and restarted every few seconds, the database's
// connections are dropped, and SendGrid answers 429, 500 and slowly. Then it
// checks that every case ended as its script says, every (case, step) email
// was sent exactly once, no profile was merged or re-bound twice, the
// store's invariants hold and the timelines have no gaps.
//
// The run has its own PostgreSQL database, an embedded Temporal server in
// this process (devserver), the SendGrid stand-in (mail/mailtest), the API in
// this process (dev mode, for its sign-in) and `certdesk worker` child
// processes configured through the environment, as in production.
package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
)

// Options shape a run. Zero values take the defaults of the full run.
type Options struct {
	// Cases is the number of scripted cases (a connect case with
	// duplicates runs a merge case too, so the store holds a few more).
	Cases int
	// KillEvery is the mean time between two SIGKILLs of the worker.
	KillEvery time.Duration
	// TermEvery is the mean time between two rolling restarts of the
	// worker: a new one starts, the old one gets SIGTERM and has
	// StopTimeout (its CERTDESK_WORKER_STOP_TIMEOUT) to finish and exit.
	TermEvery   time.Duration
	StopTimeout time.Duration
	// TemporalRestarts and PostgresRestarts are how many times the
	// Temporal server and the PostgreSQL server are stopped and started
	// again, RestartEvery apart (on average). PostgreSQL is restarted only
	// when the run can start one of its own, from the programs in
	// PostgresBin ("": found on PATH or in /usr/lib/postgresql/*/bin).
	TemporalRestarts int
	PostgresRestarts int
	RestartEvery     time.Duration
	PostgresBin      string
	// DBDrops is how many times the database's connections are dropped,
	// DropEvery apart (on average).
	DBDrops   int
	DropEvery time.Duration
	// CoolingOff is the recoveries' cooling-off, shortened.
	CoolingOff time.Duration
	// ArriveEvery is the time between two scripts' starts: cases keep
	// arriving while the faults go on, as on a working day.
	ArriveEvery time.Duration
	// Concurrency caps how many scripts run at once.
	Concurrency int
	// Binary is the certdesk binary whose `worker` command is run.
	Binary string
	// PostgresURL is where the run's database is created (an admin URL)
	// when it runs no PostgreSQL of its own.
	PostgresURL string
	// Dir receives the workers' and the Temporal server's logs; "" is a
	// temporary directory, removed unless Keep.
	Dir string
	// Keep keeps the database and the logs.
	Keep bool
	// Seed makes the plan and the provider's faults repeatable.
	Seed int64
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Progress, when set, receives a line every few seconds.
	Progress io.Writer
}

func (o *Options) defaults() {
	if o.Cases <= 0 {
		o.Cases = 300
	}
	if o.KillEvery == 0 {
		o.KillEvery = 4 * time.Second
	}
	if o.TermEvery == 0 {
		o.TermEvery = 15 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = config.DefaultWorkerStopTimeout
	}
	if o.RestartEvery <= 0 {
		o.RestartEvery = time.Minute
	}
	if o.DropEvery <= 0 {
		o.DropEvery = 20 * time.Second
	}
	if o.CoolingOff <= 0 {
		o.CoolingOff = 40 * time.Second
	}
	if o.ArriveEvery == 0 {
		o.ArriveEvery = 500 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 100
	}
	if o.PostgresURL == "" {
		o.PostgresURL = os.Getenv("CERTDESK_TEST_POSTGRES_URL")
	}
	if o.PostgresURL == "" {
		o.PostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
}

// scriptTimeout bounds a script, besides its cooling-offs.
const scriptTimeout = 4 * time.Minute

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

func errorf(format string, args ...any) error { return fmt.Errorf("chaos: "+format, args...) }

// Run runs the chaos and checks what it left. The error is for a run that
// could not be set up or checked; what the checks found is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	if o.Binary == "" {
		return nil, errorf("no certdesk binary to run workers from")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rep := &Report{CasesByKind: map[string]int{}, ScriptsByVariant: map[string]int{}, Options: map[string]any{
		"cases": o.Cases, "kill_every": o.KillEvery.String(), "db_drops": o.DBDrops, "drop_every": o.DropEvery.String(),
		"term_every": o.TermEvery.String(), "stop_timeout": o.StopTimeout.String(),
		"temporal_restarts": o.TemporalRestarts, "postgres_restarts": o.PostgresRestarts, "restart_every": o.RestartEvery.String(),
		"cooling_off": o.CoolingOff.String(), "arrive_every": o.ArriveEvery.String(), "concurrency": o.Concurrency, "seed": o.Seed,
		"provider": map[string]float64{"429": rate429, "500": rate500, "slow_500": rateSlow500, "slow_send": rateSlowSend},
	}}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%5.0fs  "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
		}
	}

	s, err := setUp(ctx, o, rep)
	if err != nil {
		return nil, err
	}
	defer s.close()
	people, err := makeWorld(ctx, s.st, s.direct, plan(o.Cases, o.Seed))
	if err != nil {
		return nil, err
	}
	progress("world made: %d people in %s", len(people), store.DatabaseName(s.dbURL))
	c := &apiClient{base: s.cfg.PublicURL, http: &http.Client{Timeout: 30 * time.Second}, poll: 700 * time.Millisecond}
	r := &runner{c: c, mail: s.prov, exps: map[string]*expected{}, resent: map[string]bool{}}
	for _, email := range []string{"alice.agent@certdesk.example", "bob.agent@certdesk.example"} {
		tok, err := c.login(ctx, email)
		if err != nil {
			return nil, err
		}
		r.agents = append(r.agents, tok)
	}

	if r.supervisor, err = c.login(ctx, "sam.supervisor@certdesk.example"); err != nil {
		return nil, err
	}
	sups, err := s.st.Agents(ctx, certdesk.RoleSupervisor)
	if err != nil {
		return nil, err
	}
	for _, a := range sups {
		r.supervisors = append(r.supervisors, a.ID)
	}

	drops := &dropper{admin: s.admin, dbname: store.DatabaseName(s.dbURL)}
	driveStart := time.Now()
	drive(ctx, o, s, r, people, drops, rep, progress)
	rep.DriveDuration = time.Since(driveStart).Seconds()
	progress("scripts ended (%d errors); faults stopped; waiting for every workflow to close", len(rep.ScriptErrors))

	// Every workflow closes (the last emails go after the final status),
	// then the checks.
	rep.Violations = append(rep.Violations, s.w.violations()...)
	ck := &checker{db: s.direct, tc: s.tc, r: r, prov: s.prov, hooks: s.hooks, kills: s.w.Kills(), rep: rep}
	if err := ck.awaitWorkflows(ctx); err != nil {
		rep.Violations = append(rep.Violations, err.Error())
	}
	if err := ck.run(ctx); err != nil {
		return rep, err
	}
	rep.Scripts = len(people)
	rep.Findings = append(r.findings, rep.Findings...)
	rep.Kills = len(s.w.Kills())
	s.w.mu.Lock()
	rep.WorkerStarts, rep.WorkerCrashes = s.w.starts, append(rep.WorkerCrashes, s.w.crashes...)
	s.w.mu.Unlock()
	for _, t := range s.w.Terms() {
		rep.SIGTERMs++
		rep.SIGTERMExits = append(rep.SIGTERMExits, seconds(t.Took))
	}
	for _, d := range s.temporal.Restarts() {
		rep.TemporalRestarts++
		rep.TemporalRestartTimes = append(rep.TemporalRestartTimes, seconds(d))
	}
	if s.pg != nil {
		for _, d := range s.pg.Restarts() {
			rep.PostgresRestarts++
			rep.PostgresRestartTimes = append(rep.PostgresRestartTimes, seconds(d))
		}
	}
	rep.DBDrops, rep.DBBackendsDropped = drops.counts()
	rep.ProviderAnswers = s.prov.counts()
	rep.ProviderErrors = rep.ProviderAnswers["429"] + rep.ProviderAnswers["500"]
	rep.ProviderRequests = rep.ProviderErrors + rep.ProviderAnswers["accepted"]
	rep.APIUnavailable = c.transients.Load()
	rep.InvariantViolations = len(rep.Violations)
	rep.Duration = time.Since(began).Seconds()
	return rep, nil
}

// drive runs the scripts, one every ArriveEvery, while the worker is
// killed and the database dropped; the faults stop when the last script
// has ended.
func drive(ctx context.Context, o Options, s *stack, r *runner, people []*person, drops *dropper, rep *Report, progress func(string, ...any)) {
	faults, stopFaults := context.WithCancel(ctx)
	var fw sync.WaitGroup
	fw.Go(func() {
		every(faults, o.KillEvery, 0, func() {
			if err := s.w.Kill(); err != nil {
				progress("kill: %v", err)
			}
		})
	})
	if o.TermEvery > 0 {
		fw.Go(func() {
			every(faults, o.TermEvery, 0, func() {
				if err := s.w.Restart(); err != nil {
					progress("rolling restart: %v", err)
				}
			})
		})
	}
	var restartErrs []string
	var errMu sync.Mutex
	restartFailed := func(err error) {
		progress("%v", err)
		errMu.Lock()
		defer errMu.Unlock()
		restartErrs = append(restartErrs, err.Error())
	}
	if o.TemporalRestarts > 0 {
		fw.Go(func() {
			every(faults, o.RestartEvery, o.TemporalRestarts, func() {
				took, err := s.temporal.Restart(faults)
				if err != nil {
					restartFailed(err)
					return
				}
				progress("Temporal server restarted: away %v", took.Round(time.Millisecond))
			})
		})
	}
	if s.pg != nil {
		// Half a period later than the Temporal server's, so the two
		// seldom coincide.
		fw.Go(func() {
			select {
			case <-faults.Done():
				return
			case <-time.After(o.RestartEvery / 2):
			}
			every(faults, o.RestartEvery, o.PostgresRestarts, func() {
				took, err := s.pg.Restart()
				if err != nil {
					restartFailed(errorf("restart PostgreSQL: %w", err))
					return
				}
				progress("PostgreSQL restarted: away %v", took.Round(time.Millisecond))
			})
		})
	}
	if o.DBDrops > 0 {
		fw.Go(func() { every(faults, o.DropEvery, o.DBDrops, func() { drops.Drop(faults) }) })
	}
	if s.hooks != nil {
		// The subscriber goes away once, for a few seconds, early in the
		// run (besides its 500s and slow answers throughout).
		fw.Go(func() {
			every(faults, 3*o.DropEvery, 1, func() {
				if err := s.hooks.away(faults, 4*time.Second); err != nil {
					progress("%v", err)
				}
			})
		})
	}
	defer func() {
		stopFaults()
		fw.Wait()
		rep.Violations = append(rep.Violations, restartErrs...)
		if s.hooks != nil {
			s.hooks.calm()
		}
	}()

	var (
		done    = make(chan struct{})
		mu      sync.Mutex
		ended   int
		sem     = make(chan struct{}, o.Concurrency)
		scripts sync.WaitGroup
	)
	defer close(done)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				d, n := drops.counts()
				mu.Lock()
				e := ended
				mu.Unlock()
				progress("scripts done %d/%d; worker kills %d, SIGTERMs %d; restarts: Temporal %d, PostgreSQL %d; db drops %d (%d connections); provider %s",
					e, len(people), len(s.w.Kills()), len(s.w.Terms()), len(s.temporal.Restarts()), s.pg.count(), d, n, kv(s.prov.counts()))
			}
		}
	}()
	for i, p := range people {
		rep.ScriptsByVariant[p.variant.name]++
		if i > 0 && o.ArriveEvery > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(o.ArriveEvery):
			}
		}
		scripts.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// A script stuck on a case that never moves ends with an error
			// (and the checks say why) instead of holding the run.
			sctx, cancel := context.WithTimeout(ctx, scriptTimeout+2*o.CoolingOff)
			defer cancel()
			err := p.variant.run(sctx, r, p)
			mu.Lock()
			defer mu.Unlock()
			ended++
			if err != nil {
				rep.ScriptErrors = append(rep.ScriptErrors, fmt.Sprintf("%s (%s): %v", p.name, p.variant.name, err))
			}
		})
	}
	scripts.Wait()
}
