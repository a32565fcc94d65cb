package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/tracing"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

// runDev runs everything in one process: the embedded Temporal server and
// the store in SQLite files under the data dir, the worker, the HTTP server
// and the captured mailbox. Stop it and start it again: every open case is
// still there and still waiting.
func runDev(ctx context.Context, args []string, stdout io.Writer) error {
	stopTracing, err := startTracing(ctx, "certdesk-dev")
	if err != nil {
		return err
	}
	defer stopTracing()
	cfg, err := config.Load(config.ModeDev, nil)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	fs := newCommand("dev", "dev [--data-dir DIR] [--http ADDR] [--temporal-port N] [--ui-port N]",
		"Runs everything in one process: an embedded Temporal server and its Web UI, SQLite, the worker, the HTTP server, captured mail and the demo world. Stop it and start it again: open cases carry on.", stdout)
	dataDir := fs.String("data-dir", "./.certdesk", "where the SQLite files and the dev secret live")
	fs.StringVar(&cfg.HTTPAddr, "http", cfg.HTTPAddr, "HTTP listen address")
	port := fs.Int("temporal-port", 7233, "port of the embedded Temporal frontend (gRPC)")
	uiPort := fs.Int("ui-port", devserver.DefaultUIPort, "port of the Temporal Web UI on 127.0.0.1 (0: no UI)")
	if err := fs.parse(args); err != nil {
		return err
	}
	switch {
	case *uiPort < 0 || *uiPort > 65535:
		return usagef("dev: --ui-port %d is not a port (0 turns the UI off)", *uiPort)
	case *uiPort != 0 && *uiPort == *port:
		return usagef("dev: --ui-port and --temporal-port are both %d", *port)
	}
	if err := cfg.Dev(*dataDir); err != nil {
		return err
	}
	cfg.Temporal.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	cfg.Temporal.Namespace = devserver.Namespace
	cfg.Temporal.APIKey, cfg.Temporal.TLS = "", nil
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	// Take the HTTP port first: failing here is cheaper than after the
	// Temporal server started.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another certdesk running? use --http)", cfg.HTTPAddr, err)
	}
	defer ln.Close()
	if *uiPort != 0 {
		if err := devserver.CheckPortFree(*uiPort); err != nil {
			return fmt.Errorf("the Temporal Web UI's port %d is taken (another Temporal dev server?): use --ui-port, or --ui-port 0 for no UI: %w", *uiPort, err)
		}
	}

	srv, err := devserver.Start(ctx, devserver.Options{
		DatabaseFile: filepath.Join(*dataDir, "temporal.db"),
		Port:         *port,
		LogFile:      filepath.Join(*dataDir, "temporal.log"),
	})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %d is taken (another Temporal dev server?): use --temporal-port: %w", *port, err)
		}
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			slog.Warn("temporal server stop", "err", err)
		}
	}()
	if *uiPort != 0 {
		ui, err := startDevUI(ctx, srv, *uiPort, cfg.PublicURL)
		if err != nil {
			return err
		}
		defer ui.Stop()
		// The case page links here, and the codec endpoint lets this
		// origin read its answers.
		cfg.TemporalUIURL = ui.URL()
	}

	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	seeded := false
	if empty, err := st.Empty(ctx); err != nil {
		return err
	} else if empty {
		if _, err := st.Seed(ctx); err != nil {
			return err
		}
		seeded = true
	}
	if err := desk.EnsureDevSubscriber(ctx, st, cfg.PublicURL); err != nil {
		return err
	}

	cd, err := codec.Parse(cfg.PayloadKeys)
	if err != nil {
		return err
	}
	cd.UseKeyStore(st)
	tc, err := client.Dial(tracing.Client(cd.Client(client.Options{
		HostPort: srv.HostPort(), Namespace: devserver.Namespace,
		Logger:         sdklog.NewStructuredLogger(slog.Default()),
		MetricsHandler: telemetry.SDKMetrics(), // the SDK's metrics on the single /metrics
	}), workflows.TraceSpanKey))
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()

	acts := &activities.Activities{Store: st, Mailer: activities.CaptureMailer(st), Links: activities.Links{BaseURL: cfg.PublicURL}, Webhooks: webhookDelivery(cfg),
		ReplyTo: inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).For, CaseToken: inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).Token, AttachmentRetention: cfg.Inbound.AttachmentRetention, Retention: cfg.Retention}
	w, err := worker.Start(ctx, tc, cfg, acts)
	if err != nil {
		return err
	}
	defer w.Stop()
	// Closed workflows kept as long as ended cases keep personal data.
	if _, err := worker.NamespaceRetention(ctx, tc, devserver.Namespace, cfg.Retention, true); err != nil {
		slog.Warn("the namespace's retention is not CERTDESK_RETENTION", "err", err)
	}

	printDevBanner(stdout, cfg, srv.HostPort(), *dataDir, seeded)
	handler := server.New(server.Deps{Config: cfg, Store: st, Temporal: tc, Codec: cd})
	err = serveOn(ctx, ln, handler)
	fmt.Fprintln(stdout, "\ncertdesk dev stopping; open cases stay in", *dataDir)
	return err
}

// startDevUI serves the Temporal Web UI, wired to certdesk's codec
// endpoint: the browser posts the payloads it shows there with certdesk's
// session cookie, so a signed-in agent sees decoded histories and anyone
// else sees them encrypted. The UI's URL names the loopback as certdesk's
// public URL does (localhost or 127.0.0.1): the cookie goes only to the
// same site.
func startDevUI(ctx context.Context, srv *devserver.Server, port int, publicURL string) (*devserver.UI, error) {
	host := "127.0.0.1"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() == "localhost" {
		host = "localhost"
	}
	return srv.StartUI(ctx, devserver.UIOptions{Port: port, Host: host, CodecEndpoint: publicURL + "/codec"})
}

func printDevBanner(w io.Writer, cfg config.Config, temporalAddr, dataDir string, seeded bool) {
	u := cfg.PublicURL
	state := "resumed"
	if seeded {
		state = "new, demo world seeded"
	}
	ui := ""
	if cfg.TemporalUIURL != "" {
		ui = fmt.Sprintf("  Temporal Web UI           %s/namespaces/%s/workflows\n", cfg.TemporalUIURL, devserver.Namespace)
	}
	fmt.Fprintf(w, `
certdesk dev is running (data in %s: %s)

  Sign in as a demo person  %s/dev/login
  Agent console             %s/console
  Learner portal            %s/portal
  Mailbox (captured mail)   %s/dev/mail
  Webhooks (domain events)  %s/dev/webhooks
  API                       %s/api/v1/me
  Temporal frontend         %s  namespace %s
                            (temporal workflow list --address %s)
%s
Press Ctrl-C to stop; start again to carry on where you left off.
`, dataDir, state, u, u, u, u, u, u, temporalAddr, devserver.Namespace, temporalAddr, ui)
}
