package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/webhook"
	"github.com/certdesk/certdesk/worker"
)

// stack is the embedded deployment a scenario runs on: a PostgreSQL
// database of its own, the embedded Temporal server, the API on a local
// port and the worker in this process with the production tuning
// (worker.Options), the baseline workflow registered beside certdesk's.
// Mail is captured in the database, as in dev mode.
type stack struct {
	dir   string
	dbURL string
	st    *store.Store
	pg    *pgxpool.Pool // bulk loads and the direct queries
	cfg   config.Config
	tc    client.Client
	acts  *activities.Activities
	w     sdkworker.Worker
	web   *httpClient
	// closers undo the set-up, last first.
	closers []func()
}

func (s *stack) close() {
	s.stopWorker()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// quiet is the logger of what a benchmark does not report: the SDK's and
// the API's lines would cost time in the measured paths.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startStack builds the stack; on an error, what it built is closed.
func startStack(ctx context.Context, o Options, progress func(string, ...any)) (s *stack, err error) {
	s = &stack{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "certdesk-bench-"); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { os.RemoveAll(s.dir) })

	if err := s.openDatabase(ctx, o); err != nil {
		return s, err
	}
	progress("database %s ready", store.DatabaseName(s.dbURL))

	srv, err := devserver.Start(ctx, devserver.Options{LogFile: filepath.Join(s.dir, "temporal.log")})
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { _ = srv.Stop() })

	var ln net.Listener
	if s.cfg, ln, s.tc, err = srv.Scratch(s.dbURL, "bench", s.st); err != nil {
		return s, err
	}
	s.closers = append(s.closers, s.tc.Close)
	slog.SetDefault(quiet)
	handler := server.New(server.Deps{Config: s.cfg, Store: s.st, Temporal: s.tc})
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	s.closers = append(s.closers, func() { hs.Close() })
	s.web = newHTTPClient(s.cfg.PublicURL, "")

	// The events scenario's receivers are on this machine, as in dev.
	s.acts = &activities.Activities{Store: s.st, Mailer: activities.CaptureMailer(s.st), Links: activities.Links{BaseURL: s.cfg.PublicURL},
		Webhooks: &activities.Webhooks{Sender: webhook.NewSender(10*time.Second, true)}}
	if err := s.startWorker(); err != nil {
		return s, err
	}
	progress("embedded Temporal at %s, API at %s, worker on %s", srv.HostPort(), s.cfg.PublicURL, s.cfg.TaskQueue)
	return s, nil
}

// startWorker starts certdesk's worker, the baseline registered beside it.
func (s *stack) startWorker() error {
	w := worker.New(s.tc, s.cfg, s.acts)
	w.RegisterWorkflow(Baseline)
	w.RegisterWorkflow(BaselineDesk)
	w.RegisterActivity(NoOp)
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	s.w = w
	return worker.EnsureWebhookDelivery(context.Background(), s.tc, s.cfg)
}

func (s *stack) stopWorker() {
	if s.w != nil {
		s.w.Stop()
		s.w = nil
	}
}

// openDatabase makes the stack's own database (dropped at close), migrated
// and seeded (the agents), with the store and a pgx pool on it.
func (s *stack) openDatabase(ctx context.Context, o Options) (err error) {
	dbURL, drop, admin, err := store.CreateDatabase(ctx, o.PostgresURL, "certdesk_bench_")
	if err != nil {
		return err
	}
	s.dbURL = dbURL
	s.closers = append(s.closers, func() { admin.Close() }, drop)
	if s.st, err = store.Open(ctx, s.dbURL); err != nil {
		return err
	}
	s.closers = append(s.closers, func() { s.st.Close() })
	if _, err := s.st.Migrate(ctx); err != nil {
		return err
	}
	if _, err := s.st.Seed(ctx); err != nil {
		return err
	}
	if s.pg, err = pgxpool.New(ctx, s.dbURL); err != nil {
		return err
	}
	s.closers = append(s.closers, s.pg.Close)
	return nil
}
