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
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver: CREATE DATABASE, drops, checks
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// Options shape a run. Zero values take the defaults of the full run.
type Options struct {
	// Cases is the number of scripted cases (a connect case with
	// duplicates runs a merge case too, so the store holds a few more).
	Cases int
	// KillEvery is the mean time between two SIGKILLs of the worker.
	KillEvery time.Duration
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
	// PostgresURL is where the run's database is created (an admin URL).
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

// Report is what a run found. Its JSON is the run's record.
type Report struct {
	Cases               int            `json:"cases"`
	CasesByKind         map[string]int `json:"cases_by_kind"`
	Scripts             int            `json:"scripts"`
	ScriptsByVariant    map[string]int `json:"scripts_by_variant"`
	CompletedAsExpected int            `json:"completed_as_expected"`
	Unexpected          []string       `json:"unexpected,omitempty"`
	ScriptErrors        []string       `json:"script_errors,omitempty"`
	// Findings are what the scripts saw go wrong on the way though the
	// case carried on (the checks count what they prove wrong).
	Findings []string `json:"findings,omitempty"`

	EmailsExpected   int `json:"emails_expected"`
	EmailsSent       int `json:"emails_sent"`
	EmailsDuplicated int `json:"emails_duplicated"`
	// EmailsDuplicatedExplained are the duplicates a kill explains: a
	// worker was killed within a second of SendGrid accepting the first
	// copy, before the activity's heartbeat could keep the acceptance.
	EmailsDuplicatedExplained int         `json:"emails_duplicated_explained"`
	Duplicates                []Duplicate `json:"duplicates,omitempty"`
	EmailsMissing             int         `json:"emails_missing"`
	Missing                   []string    `json:"missing,omitempty"`

	// NoticeWindowMin is the least time, in seconds, a recovery's "this
	// wasn't me" notice left its owner before the cooling-off ended.
	NoticeWindowMin float64 `json:"notice_window_min_seconds"`

	InvariantViolations int      `json:"invariant_violations"`
	Violations          []string `json:"violations,omitempty"`
	Checks              []string `json:"checks"`

	Kills             int            `json:"kills"`
	WorkerStarts      int            `json:"worker_starts"`
	WorkerCrashes     []string       `json:"worker_crashes,omitempty"`
	DBDrops           int            `json:"db_drops"`
	DBBackendsDropped int            `json:"db_backends_terminated"`
	ProviderRequests  int            `json:"provider_requests"`
	ProviderErrors    int            `json:"provider_errors"`
	ProviderAnswers   map[string]int `json:"provider_answers"`
	// APIUnavailable counts the API's answers that were a 5xx or none
	// (the scripts tried again).
	APIUnavailable int64          `json:"api_unavailable_answers"`
	Duration       float64        `json:"duration_seconds"`
	DriveDuration  float64        `json:"drive_seconds"`
	Options        map[string]any `json:"options"`
	Database       string         `json:"database,omitempty"`
	LogDir         string         `json:"log_dir,omitempty"`
}

// Duplicate is a (case, step) whose email SendGrid accepted more than once.
type Duplicate struct {
	CaseID   string      `json:"case_id"`
	Step     string      `json:"step"`
	Kind     string      `json:"kind"`
	Accepted []time.Time `json:"accepted_at"`
	// KilledAt is the kill that explains it, if one does.
	KilledAt *time.Time `json:"killed_at,omitempty"`
}

// OK reports whether the run found nothing wrong. A duplicate explained by
// a kill in the send→heartbeat window is the documented limit: reported,
// not a failure.
func (r *Report) OK() bool {
	return r.CompletedAsExpected == r.Cases && len(r.Unexpected) == 0 && len(r.ScriptErrors) == 0 &&
		r.EmailsMissing == 0 && r.EmailsDuplicated == r.EmailsDuplicatedExplained && r.InvariantViolations == 0 &&
		len(r.WorkerCrashes) == 0
}

// Summary is the report in a few lines.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cases                  %d (%s) from %d scripts\n", r.Cases, kv(r.CasesByKind), r.Scripts)
	fmt.Fprintf(&b, "completed as expected  %d\n", r.CompletedAsExpected)
	fmt.Fprintf(&b, "emails                 %d expected, %d sent; duplicated %d (explained by a kill: %d), missing %d\n",
		r.EmailsExpected, r.EmailsSent, r.EmailsDuplicated, r.EmailsDuplicatedExplained, r.EmailsMissing)
	fmt.Fprintf(&b, "invariant violations   %d (%d checks)\n", r.InvariantViolations, len(r.Checks))
	fmt.Fprintf(&b, "cooling-off notices    the least time one left its owner to cancel: %.0fs\n", r.NoticeWindowMin)
	fmt.Fprintf(&b, "faults                 %d worker kills (%d starts), %d database drops (%d connections cut), %d provider errors of %d requests (%s)\n",
		r.Kills, r.WorkerStarts, r.DBDrops, r.DBBackendsDropped, r.ProviderErrors, r.ProviderRequests, kv(r.ProviderAnswers))
	fmt.Fprintf(&b, "api 5xx or no answer   %d (the scripts tried again)\n", r.APIUnavailable)
	fmt.Fprintf(&b, "duration               %.0fs (driving %.0fs)\n", r.Duration, r.DriveDuration)
	for _, list := range [][]string{r.ScriptErrors, r.Findings, r.Unexpected, r.Missing, r.Violations, r.WorkerCrashes} {
		for i, s := range list {
			if i == 20 {
				fmt.Fprintf(&b, "  … and %d more\n", len(list)-20)
				break
			}
			fmt.Fprintln(&b, "  !", s)
		}
	}
	for _, d := range r.Duplicates {
		why := "NOT explained by a kill"
		if d.KilledAt != nil {
			why = fmt.Sprintf("a worker was killed %v from SendGrid's acceptance of the first copy, before the heartbeat that keeps it (the known limit)",
				d.KilledAt.Sub(d.Accepted[0]).Round(100*time.Microsecond))
		}
		fmt.Fprintf(&b, "  duplicate email: case %s step %s (%s) accepted %d times: %s\n", d.CaseID, d.Step, d.Kind, len(d.Accepted), why)
	}
	if r.OK() {
		b.WriteString("OK\n")
	} else {
		b.WriteString("FAILED\n")
	}
	return b.String()
}

func kv(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// scriptTimeout bounds a script, besides its cooling-offs.
const scriptTimeout = 4 * time.Minute

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
		"cooling_off": o.CoolingOff.String(), "arrive_every": o.ArriveEvery.String(), "concurrency": o.Concurrency, "seed": o.Seed,
		"provider": map[string]float64{"429": rate429, "500": rate500, "slow_500": rateSlow500, "slow_send": rateSlowSend},
	}}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%5.0fs  "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
		}
	}

	// Where the logs go.
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "certdesk-chaos-"); err != nil {
			return nil, err
		}
		if !o.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if o.Keep {
		rep.LogDir = dir
	}

	// The run's database.
	dbURL, dropDB, admin, err := createDatabase(ctx, o.PostgresURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if o.Keep {
		rep.Database = dbURL
	} else {
		defer dropDB()
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := st.Seed(ctx); err != nil { // the agents
		return nil, err
	}
	direct, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	defer direct.Close()
	planned := plan(o.Cases, o.Seed)
	people, err := makeWorld(ctx, st, direct, planned)
	if err != nil {
		return nil, err
	}
	progress("world made: %d people in %s", len(people), dbName(dbURL))

	// Temporal, SendGrid, the API.
	srv, err := devserver.Start(ctx, devserver.Options{LogFile: filepath.Join(dir, "temporal.log")})
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop() }()
	prov := newProvider(o.Seed)
	defer prov.close()
	keys := codec.NewKey("chaos1")
	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg.DatabaseURL, cfg.HTTPAddr, cfg.PublicURL = dbURL, ln.Addr().String(), "http://"+ln.Addr().String()
	cfg.Secret, cfg.PayloadKeys, cfg.TaskQueue = certdesk.NewID()+certdesk.NewID(), keys, "chaos-"+strings.ToLower(certdesk.NewID())
	cfg.Temporal.Address, cfg.Temporal.Namespace = srv.HostPort(), devserver.Namespace
	cfg.CoolingOff, cfg.VerifyTTL, cfg.LearnerWait = o.CoolingOff, time.Hour, time.Hour
	// Every scripted person asks from an address of their own.
	cfg.TrustedProxies = []string{"127.0.0.1"}
	cd, err := cfg.Codec()
	if err != nil {
		return nil, err
	}
	tc, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace, DataConverter: cd.DataConverter(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		return nil, err
	}
	defer tc.Close()
	hs := &http.Server{Handler: api.New(api.Deps{Config: cfg, Store: st, Temporal: tc}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	// The workers, configured as in production.
	logf, err := os.Create(filepath.Join(dir, "workers.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	w := &workers{bin: o.Binary, log: logf, env: workerEnv(cfg, dbURL, prov.URL())}
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()

	c := &apiClient{base: cfg.PublicURL, http: &http.Client{Timeout: 30 * time.Second}, poll: 700 * time.Millisecond}
	r := &runner{c: c, mail: prov, exps: map[string]*expected{}}
	for _, email := range []string{"alice.agent@certdesk.example", "bob.agent@certdesk.example"} {
		tok, err := c.login(ctx, email)
		if err != nil {
			return nil, err
		}
		r.agents = append(r.agents, tok)
	}

	// The chaos, while the scripts run.
	faults, stopFaults := context.WithCancel(ctx)
	defer stopFaults()
	drops := &dropper{admin: admin, dbname: dbName(dbURL)}
	var fw sync.WaitGroup
	fw.Go(func() {
		every(faults, o.KillEvery, 0, func() {
			if err := w.Kill(); err != nil {
				progress("kill: %v", err)
			}
		})
	})
	if o.DBDrops > 0 {
		fw.Go(func() { every(faults, o.DropEvery, o.DBDrops, func() { drops.Drop(faults) }) })
	}

	driveStart := time.Now()
	var (
		done    = make(chan struct{})
		errMu   sync.Mutex
		ran     int
		sem     = make(chan struct{}, o.Concurrency)
		scripts sync.WaitGroup
	)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				d, n := drops.counts()
				errMu.Lock()
				finished := ran
				errMu.Unlock()
				progress("scripts done %d/%d; worker kills %d; db drops %d (%d connections); provider %s",
					finished, len(people), len(w.Kills()), d, n, kv(prov.counts()))
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
			errMu.Lock()
			defer errMu.Unlock()
			ran++
			if err != nil {
				rep.ScriptErrors = append(rep.ScriptErrors, fmt.Sprintf("%s (%s): %v", p.name, p.variant.name, err))
			}
		})
	}
	scripts.Wait()
	close(done)
	rep.DriveDuration = time.Since(driveStart).Seconds()
	stopFaults()
	fw.Wait()
	progress("scripts ended (%d errors); faults stopped; waiting for every workflow to close", len(rep.ScriptErrors))

	// Every workflow closes (the last emails go after the final status),
	// then the checks.
	ck := &checker{db: direct, tc: tc, r: r, prov: prov, kills: w.Kills(), rep: rep}
	if err := ck.awaitWorkflows(ctx); err != nil {
		rep.Violations = append(rep.Violations, err.Error())
	}
	if err := ck.run(ctx); err != nil {
		return rep, err
	}
	rep.Scripts = len(people)
	rep.Findings = append(r.findings, rep.Findings...)
	rep.Kills, rep.WorkerStarts = len(w.Kills()), w.starts
	w.mu.Lock()
	rep.WorkerCrashes = append(rep.WorkerCrashes, w.crashes...)
	w.mu.Unlock()
	rep.DBDrops, rep.DBBackendsDropped = drops.counts()
	rep.ProviderAnswers = prov.counts()
	rep.ProviderErrors = rep.ProviderAnswers["429"] + rep.ProviderAnswers["500"]
	rep.ProviderRequests = rep.ProviderErrors + rep.ProviderAnswers["accepted"]
	rep.APIUnavailable = c.transients.Load()
	rep.InvariantViolations = len(rep.Violations)
	rep.Duration = time.Since(began).Seconds()
	return rep, nil
}

// workerEnv is the environment of `certdesk worker`: the production
// configuration, pointed at the run's database, Temporal and SendGrid.
// Nothing certdesk, Temporal or SendGrid reads is inherited.
func workerEnv(cfg config.Config, dbURL, sendgrid string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "CERTDESK_") && !strings.HasPrefix(k, "TEMPORAL_") && !strings.HasPrefix(k, "SENDGRID_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"CERTDESK_DATABASE_URL="+dbURL,
		"CERTDESK_PUBLIC_URL="+cfg.PublicURL,
		"CERTDESK_SECRET="+cfg.Secret,
		"CERTDESK_PAYLOAD_KEYS="+cfg.PayloadKeys,
		"CERTDESK_TASK_QUEUE="+cfg.TaskQueue,
		"CERTDESK_COOLING_OFF="+cfg.CoolingOff.String(),
		"CERTDESK_VERIFY_TTL="+cfg.VerifyTTL.String(),
		"CERTDESK_LEARNER_WAIT="+cfg.LearnerWait.String(),
		"TEMPORAL_ADDRESS="+cfg.Temporal.Address,
		"TEMPORAL_NAMESPACE="+cfg.Temporal.Namespace,
		"SENDGRID_API_KEY=SG.chaos-key",
		"SENDGRID_BASE_URL="+sendgrid,
	)
	for _, k := range mail.Kinds {
		env = append(env, config.TemplateVariablePrefix+strings.ToUpper(k.Kind)+"="+templateID(k.Kind))
	}
	return env
}

// createDatabase creates the run's database; drop removes it.
func createDatabase(ctx context.Context, adminURL string) (dbURL string, drop func(), admin *sql.DB, err error) {
	admin, err = sql.Open("pgx", adminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		return "", nil, nil, errorf("PostgreSQL at %s: %w", adminURL, err)
	}
	name := "certdesk_chaos_" + strings.ToLower(certdesk.NewID())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, nil, errorf("create database: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, nil, err
	}
	u.Path = "/" + name
	drop = func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			slog.Warn("chaos: drop database", "database", name, "err", err)
		}
	}
	return u.String(), drop, admin, nil
}

func dbName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}
