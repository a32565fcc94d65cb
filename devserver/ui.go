package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// DefaultUIPort is the Temporal Web UI's port, as `temporal server
// start-dev` serves it.
const DefaultUIPort = 8233

// UIOptions configure the Temporal Web UI served beside an embedded server.
type UIOptions struct {
	// Port the UI listens on, on the loopback interface only.
	Port int
	// Host is the loopback name the UI's URL uses: 127.0.0.1 (when empty)
	// or localhost. Give the name certdesk's own pages are opened with: the
	// browser then sends certdesk's session cookie (SameSite=Lax) with the
	// UI's codec requests, which are same-site across ports.
	Host string
	// CodecEndpoint is the base URL of the codec server (certdesk's
	// /codec). The browser posts the payloads it shows to
	// CodecEndpoint+"/decode" with its cookies, so it sees what the signed-in
	// person may see.
	CodecEndpoint string
}

// UI is a running Temporal Web UI.
type UI struct {
	server *uiserver.Server
	url    string
	done   chan struct{} // closed when the UI server's Start returned
}

// StartUI serves the Temporal Web UI for this server, with no sign-in of
// its own (as the CLI's dev server does): it listens on the loopback only,
// where the frontend it fronts already answers anyone. It returns once the
// UI answers.
func (s *Server) StartUI(ctx context.Context, opts UIOptions) (*UI, error) {
	if opts.Port <= 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("devserver: UI port %d is not a port", opts.Port)
	}
	if opts.Host == "" {
		opts.Host = host
	}
	// The UI server takes its port itself and ends the process when it
	// cannot (its Start logs the error as fatal): find out first.
	if err := CheckPortFree(opts.Port); err != nil {
		return nil, err
	}
	ui, err := newUIServer(&uiconfig.Config{
		TemporalGRPCAddress: s.hostPort,
		Host:                host,
		Port:                opts.Port,
		EnableUI:            true,
		DefaultNamespace:    Namespace,
		Codec:               uiconfig.Codec{Endpoint: opts.CodecEndpoint, IncludeCredentials: opts.CodecEndpoint != ""},
		// The UI's own CSRF cookie over plain http on the loopback.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
		// Dev works offline and tells no one it runs: no news feed, no
		// release check (NotifyOnNewVersion stays false).
		DisableNewsFetch: true,
	})
	if err != nil {
		return nil, err
	}
	u := &UI{server: ui, url: "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		_ = ui.Start() // nil once stopped; a failure to listen ends the process
	}()
	if err := u.waitAnswering(ctx, "http://"+net.JoinHostPort(host, strconv.Itoa(opts.Port))+"/healthz"); err != nil {
		u.Stop()
		return nil, err
	}
	return u, nil
}

// URL is where a browser opens the UI.
func (u *UI) URL() string { return u.url }

// Stop stops serving the UI.
func (u *UI) Stop() {
	u.server.Stop()
	select {
	case <-u.done:
	case <-time.After(5 * time.Second):
	}
}

// CheckPortFree reports a clear error when a loopback port is taken.
func CheckPortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("devserver: port %d is taken: %w", port, err)
	}
	return l.Close()
}

// newUIServer builds the UI server, turning its panics on a bad
// configuration into an error.
func newUIServer(c *uiconfig.Config) (ui *uiserver.Server, err error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("devserver: UI config: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("devserver: UI server: %v", p)
		}
	}()
	return uiserver.NewServer(uioptions.WithConfigProvider(c)), nil
}

func (u *UI) waitAnswering(ctx context.Context, health string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			return fmt.Errorf("devserver: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: the Temporal Web UI does not answer on %s: %v", health, err)
		case <-u.done:
			return fmt.Errorf("devserver: the Temporal Web UI stopped at start")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
