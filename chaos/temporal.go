package chaos

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
)

// temporalServer is the run's embedded Temporal server, on a SQLite file
// and a fixed frontend port so that it can stop and start again on the
// same state and address while the API and the workers keep running, as
// they would while a Temporal cluster restarts.
type temporalServer struct {
	opts devserver.Options

	mu       sync.Mutex
	srv      *devserver.Server
	restarts []time.Duration
}

// startTemporal starts the server; with a database file, its frontend
// port stays the same across restarts.
func startTemporal(ctx context.Context, opts devserver.Options) (*temporalServer, error) {
	srv, err := devserver.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	if _, port, err := net.SplitHostPort(srv.HostPort()); err == nil {
		opts.Port, _ = strconv.Atoi(port)
	}
	return &temporalServer{opts: opts, srv: srv}, nil
}

// HostPort is the frontend's address, the same across restarts.
func (t *temporalServer) HostPort() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.srv.HostPort()
}

// Restart stops the server and starts it again on the same file and port,
// and returns how long the frontend was away. A start that fails (the port
// still held for a moment) is tried again for a minute.
func (t *temporalServer) Restart(ctx context.Context) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.opts.DatabaseFile == "" {
		return 0, errorf("the Temporal server is in memory: it cannot restart")
	}
	began := time.Now()
	if t.srv != nil {
		if err := t.srv.Stop(); err != nil {
			return time.Since(began), errorf("stop the Temporal server: %w", err)
		}
		t.srv = nil
	}
	// Not cut short by the end of the faults: a server left stopped would
	// stall the rest of the run.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var err error
	for {
		var srv *devserver.Server
		if srv, err = devserver.Start(sctx, t.opts); err == nil {
			t.srv = srv
			break
		}
		select {
		case <-sctx.Done():
			return time.Since(began), errorf("start the Temporal server again: %w", err)
		case <-time.After(time.Second):
		}
	}
	took := time.Since(began)
	t.restarts = append(t.restarts, took)
	return took, nil
}

// Restarts lists how long each restart kept the frontend away.
func (t *temporalServer) Restarts() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.restarts)
}

func (t *temporalServer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv != nil {
		_ = t.srv.Stop()
		t.srv = nil
	}
}

// Scratch is devserver.Server.Scratch on the running server.
func (t *temporalServer) Scratch(dbURL, name string, ks codec.KeyStore) (config.Config, net.Listener, client.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.srv.Scratch(dbURL, name, ks)
}
