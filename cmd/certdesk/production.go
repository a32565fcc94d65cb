package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/tracing"
	"github.com/certdesk/certdesk/webhook"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func versionString() string {
	s := fmt.Sprintf("certdesk %s (%s", version, runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			switch dep.Path {
			case "go.temporal.io/sdk", "go.temporal.io/server":
				s += ", " + dep.Path[len("go.temporal.io/"):] + " " + dep.Version
			}
		}
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
				s += ", commit " + kv.Value[:12]
			}
		}
	}
	return s + ")"
}

// production loads and validates the production configuration, sets up
// JSON logging and logs the configuration with its secrets masked.
func production(name, about string, args []string, stdout io.Writer) (config.Config, error) {
	if err := newCommand(name, name, about+" Its configuration comes from the environment (see the README).", stdout).parse(args); err != nil {
		return config.Config{}, err
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	cfg, err := config.Load(config.ModeProduction, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	slog.Info("certdesk "+name+" starting", "version", version, "config", cfg)
	return cfg, nil
}

// openStore opens the store and checks its schema is current.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// openStoreWaiting is openStore for the long-running processes (api,
// worker): a database that is away for a moment (a restart, a failover, a
// dropped connection) is waited for, up to a minute, instead of exiting.
func openStoreWaiting(ctx context.Context, cfg config.Config) (*store.Store, error) {
	deadline := time.Now().Add(time.Minute)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		st, err := openStore(ctx, cfg)
		if err == nil || certdesk.ErrorCode(err) != certdesk.EUNAVAILABLE || time.Now().After(deadline) {
			return st, err
		}
		slog.WarnContext(ctx, "the database is unavailable; trying again", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// startTracing turns traces on when the OTel variables ask for them (see
// package tracing) and returns what flushes the last spans at exit.
func startTracing(ctx context.Context, service string) (stop func(), err error) {
	shutdown, err := tracing.Setup(ctx, service)
	if err != nil {
		return nil, err
	}
	if tracing.Enabled() {
		slog.Info("tracing on: spans go over OTLP", "service", service)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			slog.Warn("tracing: the last spans were not sent", "err", err)
		}
	}, nil
}

// dialTemporal returns a lazy client: the process starts even when Temporal
// is down, and /readyz says so until it is back. Its codec opens people's
// own keys from the store.
func dialTemporal(cfg config.Config, st *store.Store) (client.Client, *codec.Codec, error) {
	opts, cd, err := temporalClientOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	cd.UseKeyStore(st)
	opts.Logger = sdklog.NewStructuredLogger(slog.Default())
	// The SDK's metrics go to the process's /metrics (package telemetry).
	opts.MetricsHandler = telemetry.SDKMetrics()
	tc, err := client.NewLazyClient(opts)
	return tc, cd, err
}

func runAPI(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := production("api", "Serves certdesk's HTTP surface: the API, the pages, the links and the webhooks.", args, stdout)
	if err != nil {
		return err
	}
	stopTracing, err := startTracing(ctx, "certdesk-api")
	if err != nil {
		return err
	}
	defer stopTracing()
	st, err := openStoreWaiting(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, cd, err := dialTemporal(cfg, st)
	if err != nil {
		return err
	}
	defer tc.Close()
	srv := server.New(server.Deps{Config: cfg, Store: st, Temporal: tc, Codec: cd})
	return serveHTTP(ctx, cfg.HTTPAddr, srv)
}

func runWorker(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := production("worker", fmt.Sprintf("Runs the Temporal worker: certdesk's workflows and activities. "+
		"On SIGTERM or SIGINT it takes no new tasks, gives the running ones CERTDESK_WORKER_STOP_TIMEOUT (%s) to finish and exits 0. "+
		"It serves /healthz, /readyz and /metrics on CERTDESK_WORKER_HTTP_ADDR (%s; %s for none).",
		config.DefaultWorkerStopTimeout, config.DefaultWorkerHTTPAddr, config.WorkerHTTPOff), args, stdout)
	if err != nil {
		return err
	}
	stopTracing, err := startTracing(ctx, "certdesk-worker")
	if err != nil {
		return err
	}
	defer stopTracing()
	if err := cfg.ValidateMailer(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if missing := cfg.MissingTemplates(); len(missing) > 0 {
		slog.Warn("some message kinds have no SendGrid template: their emails will fail and show as email_failed on the case", "set", missing)
	}
	st, err := openStoreWaiting(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, _, err := dialTemporal(cfg, st)
	if err != nil {
		return err
	}
	defer tc.Close()
	acts := &activities.Activities{Store: st, Mailer: sendGrid(cfg), Links: activities.Links{BaseURL: cfg.PublicURL}, Webhooks: webhookDelivery(cfg),
		ReplyTo: inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).For, CaseToken: inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).Token, AttachmentRetention: cfg.Inbound.AttachmentRetention, Retention: cfg.Retention}
	go func() {
		// Reported, not set: the namespace is the operator's.
		check, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if _, err := worker.NamespaceRetention(check, tc, cfg.Temporal.Namespace, cfg.Retention, false); err != nil {
			slog.Warn("could not check the namespace's retention", "err", err)
		}
	}()
	status := &worker.Status{}
	if cfg.WorkerHTTPAddr == "" {
		return worker.Run(ctx, tc, cfg, acts, status)
	}
	ln, err := net.Listen("tcp", cfg.WorkerHTTPAddr)
	if err != nil {
		return fmt.Errorf("CERTDESK_WORKER_HTTP_ADDR: listen on %s: %w", cfg.WorkerHTTPAddr, err)
	}
	// /readyz answers 503 while the worker drains, so HTTP stops only
	// after the worker has; a failed HTTP server stops the worker.
	work, stopWork := context.WithCancel(ctx)
	defer stopWork()
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() {
		served <- serveOn(serving, ln, worker.Handler(worker.HTTPDeps{Status: status, Store: st, Temporal: tc, Figures: st}))
		stopWork()
	}()
	err = worker.Run(work, tc, cfg, acts, status)
	stopServing()
	return errors.Join(err, <-served)
}

// databaseOnly loads the configuration of the commands that need only the
// database (migrate, seed, token): the rest of the production settings may
// not be in their environment.
func databaseOnly() (config.Config, error) {
	cfg, err := config.Load(config.ModeProduction, nil)
	if err == nil && cfg.DatabaseURL == "" {
		err = errors.New("CERTDESK_DATABASE_URL is required: a postgres://user:pass@host/db URL or a SQLite file path")
	}
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

func runMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	if err := newCommand("migrate", "migrate", "Applies the database migrations that are not applied yet (CERTDESK_DATABASE_URL).", stdout).parse(args); err != nil {
		return err
	}
	cfg, err := databaseOnly()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(stdout, "schema is current (version %d)\n", res.Version)
		return nil
	}
	for _, m := range res.Applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	fmt.Fprintf(stdout, "schema is at version %d\n", res.Version)
	return nil
}

func runSeed(ctx context.Context, args []string, stdout io.Writer) error {
	if err := newCommand("seed", "seed", "Loads the demo world into the database (CERTDESK_DATABASE_URL); rows already there are left as they are.", stdout).parse(args); err != nil {
		return err
	}
	cfg, err := databaseOnly()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.Seed(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo world seeded: %d rows inserted (existing rows left as they were)\n", res.Inserted)
	return nil
}

// serveHTTP serves until ctx is done, then drains requests for up to 10 s.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return serveOn(ctx, ln, h)
}

func serveOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("http listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sendGrid is the production mailer: SendGrid with the configured templates.
func sendGrid(c config.Config) *mail.SendGrid {
	return &mail.SendGrid{
		APIKey: c.Mail.SendGridAPIKey, BaseURL: c.Mail.SendGridBaseURL, From: c.Mail.From, FromName: c.Mail.FromName,
		Sandbox: c.Mail.SendGridSandbox, Templates: c.Mail.Templates,
	}
}

// webhookDelivery is how the worker delivers domain events: dev mode may
// post to this machine (its built-in receiver), production never.
func webhookDelivery(c config.Config) *activities.Webhooks {
	return &activities.Webhooks{
		Sender:     webhook.NewSender(c.WebhookTimeout, c.Mode == config.ModeDev),
		RetryFor:   c.WebhookRetryFor,
		MaxBackoff: c.WebhookMaxBackoff,
	}
}

// temporalClientOptions are the SDK client options of the configured
// profile (Temporal's own variables), with the payload codec.
func temporalClientOptions(c config.Config) (client.Options, *codec.Codec, error) {
	opts, err := c.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, nil, fmt.Errorf("temporal client config: %w", err)
	}
	cd, err := codec.Parse(c.PayloadKeys)
	if err != nil {
		return client.Options{}, nil, fmt.Errorf("CERTDESK_PAYLOAD_KEYS: %w", err)
	}
	return tracing.Client(cd.Client(opts), workflows.TraceSpanKey), cd, nil
}
