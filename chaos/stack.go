package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver: drops, checks
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
)

// stack is what a run runs on: its database (through the store, and
// directly for the checks), the embedded Temporal server, the SendGrid
// stand-in, the API in this process and the worker processes.
type stack struct {
	dir      string
	dbURL    string
	admin    *sql.DB   // the server's admin connection: drops the run's connections
	pg       *postgres // the run's own PostgreSQL server; nil on a shared one
	st       *store.Store
	direct   *sql.DB // the run's database, for the checks
	cfg      config.Config
	tc       client.Client
	temporal *temporalServer
	prov     *provider
	hooks    *receiver // nil when this machine has no address but loopback
	w        *workers
	// closers undo the set-up, last first.
	closers []func()
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// setUp builds the stack; on an error, what it built is closed.
func setUp(ctx context.Context, o Options, rep *Report) (s *stack, err error) {
	s = &stack{dir: o.Dir}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "certdesk-chaos-"); err != nil {
			return s, err
		}
		if !o.Keep {
			s.closers = append(s.closers, func() { os.RemoveAll(s.dir) })
		}
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return s, err
	}
	if o.Keep {
		rep.LogDir = s.dir
	}

	adminURL := o.PostgresURL
	if s.pg, err = privatePostgres(o, rep); err != nil {
		return s, err
	}
	if s.pg != nil {
		s.closers = append(s.closers, func() {
			s.pg.stop()
			if !o.Keep {
				s.pg.remove()
			}
		})
		adminURL = s.pg.AdminURL()
		if o.Keep {
			rep.PostgresDataDir = s.pg.data()
		}
	}
	var drop func()
	if s.dbURL, drop, s.admin, err = store.CreateDatabase(ctx, adminURL, "certdesk_chaos_"); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.admin.Close() })
	if o.Keep {
		rep.Database = s.dbURL
	} else {
		s.closers = append(s.closers, drop)
	}
	if s.st, err = store.Open(ctx, s.dbURL); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.st.Close() })
	if _, err := s.st.Migrate(ctx); err != nil {
		return s, err
	}
	if _, err := s.st.Seed(ctx); err != nil { // the agents
		return s, err
	}
	if s.direct, err = sql.Open("pgx", s.dbURL); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.direct.Close() })

	// On a file when it is to restart (in memory, its state would go with
	// it), in memory-backed /dev/shm where there is one: on a disk, the
	// server's fsync per write slowed a full run's workflow tasks past the
	// API's Update timeouts.
	topts := devserver.Options{LogFile: filepath.Join(s.dir, "temporal.log")}
	if o.TemporalRestarts > 0 {
		dir := s.dir
		if shm, err := os.MkdirTemp("/dev/shm", "certdesk-chaos-temporal-"); err == nil {
			dir = shm
			if o.Keep {
				rep.TemporalDatabase = filepath.Join(dir, "temporal.db")
			} else {
				s.closers = append(s.closers, func() { os.RemoveAll(shm) })
			}
		}
		topts.DatabaseFile = filepath.Join(dir, "temporal.db")
	}
	if s.temporal, err = startTemporal(ctx, topts); err != nil {
		return s, err
	}
	s.closers = append(s.closers, s.temporal.stop)
	s.prov = newProvider(o.Seed)
	s.closers = append(s.closers, s.prov.close)
	if host := hostAddress(); host != "" {
		if s.hooks, err = newReceiver(host, uint64(o.Seed)); err != nil {
			return s, err
		}
		s.closers = append(s.closers, s.hooks.close)
		if _, err := s.st.CreateSubscriber(ctx, s.hooks.URL(), []string{"*"}, s.hooks.secret); err != nil {
			return s, err
		}
	} else {
		rep.Findings = append(rep.Findings, "no address but loopback on this machine: the webhook subscriber was left out (production workers never post to loopback)")
	}

	var ln net.Listener
	if s.cfg, ln, s.tc, err = s.temporal.Scratch(s.dbURL, "chaos", s.st); err != nil {
		return s, err
	}
	cfg := &s.cfg
	cfg.CoolingOff, cfg.VerifyTTL, cfg.LearnerWait = o.CoolingOff, time.Hour, time.Hour
	s.closers = append(s.closers, s.tc.Close)
	// The API runs in dev mode for its sign-in; it sends no mail.
	handler := server.New(server.Deps{Config: s.cfg, Store: s.st, Temporal: s.tc})
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.closers = append(s.closers, func() { hs.Close() })

	// The workers, configured as in production.
	logf, err := os.Create(filepath.Join(s.dir, "workers.log"))
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { logf.Close() })
	s.w = &workers{bin: o.Binary, log: logf, env: workerEnv(s.cfg, s.dbURL, s.prov.URL(), o.StopTimeout), stopTimeout: o.StopTimeout}
	if err := s.w.Start(); err != nil {
		return s, err
	}
	s.closers = append(s.closers, s.w.Stop)
	return s, nil
}

// workerEnv is the environment of `certdesk worker`: the production
// configuration, pointed at the run's database, Temporal and SendGrid.
// Nothing certdesk, Temporal or SendGrid reads is inherited.
func workerEnv(cfg config.Config, dbURL, sendgrid string, stopTimeout time.Duration) []string {
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
		"CERTDESK_WORKER_HTTP_ADDR=off", // many workers in one test: none listens
		"CERTDESK_WORKER_STOP_TIMEOUT="+stopTimeout.String(),
		"CERTDESK_WEBHOOK_TIMEOUT="+hookTimeout.String(),
		"CERTDESK_WEBHOOK_MAX_BACKOFF=3s", // the run is minutes long
		"SENDGRID_BASE_URL="+sendgrid,
	)
	for _, k := range mail.Kinds {
		env = append(env, config.TemplateVariablePrefix+strings.ToUpper(k.Kind)+"="+templateID(k.Kind))
	}
	return env
}

// privatePostgres starts the run's own PostgreSQL server when the run is
// to restart one (never the shared server: every other test uses it) and
// this machine has the programs; without them the run uses PostgresURL
// and only cuts its connections, and the report says so.
func privatePostgres(o Options, rep *Report) (*postgres, error) {
	if o.PostgresRestarts <= 0 {
		rep.Postgres = "shared server " + redactURL(o.PostgresURL) + ": no restart asked for; its connections were cut"
		return nil, nil
	}
	bin := postgresBinaries(o.PostgresBin)
	if bin == "" {
		where := o.PostgresBin
		if where == "" {
			where = "PATH or /usr/lib/postgresql/*/bin"
		}
		rep.Postgres = fmt.Sprintf("shared server %s: no PostgreSQL programs (initdb, pg_ctl, postgres) in %s, so it was NOT restarted; its connections were cut instead",
			redactURL(o.PostgresURL), where)
		return nil, nil
	}
	pg, err := startPostgres(bin)
	if err != nil {
		return nil, errorf("the run's own PostgreSQL (%s): %w", bin, err)
	}
	rep.Postgres = fmt.Sprintf("the run's own server on 127.0.0.1:%d (%s, fsync off), restarted with pg_ctl restart -m fast", pg.port, bin)
	return pg, nil
}

// redactURL drops a URL's password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}
