package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/worker"
)

// A worker stopped while it starts (SIGTERM before the sweep's schedule is
// made: the chaos run's rolling restarts caught workers there while
// Temporal was slow) stops cleanly: Run returns nil, so the process exits
// 0 as a SIGTERM asks, not 1 with "context canceled".
func TestRunStoppedWhileStartingIsACleanStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	srv := stacktest.Temporal(t)
	tc, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TaskQueue = "stopped-while-starting-" + certdesk.NewID()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the SIGTERM came first
	if err := worker.Run(ctx, tc, cfg, &activities.Activities{}, &worker.Status{}); err != nil {
		t.Fatalf("Run stopped while starting = %v, want nil (a clean stop)", err)
	}
}

// A worker started while the Temporal server is away (a restart of the
// cluster; the chaos run restarts its server under load) waits for it,
// as it waits for the database, and starts once it answers, instead of
// exiting with "failed reaching server".
func TestStartWaitsForTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tc, err := client.NewLazyClient(client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", port), Namespace: devserver.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TaskQueue = "waits-for-temporal-" + certdesk.NewID()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	began := time.Now()
	up := make(chan *devserver.Server, 1)
	go func() {
		time.Sleep(2 * time.Second) // the server is away for a while
		srv, err := devserver.Start(ctx, devserver.Options{Port: port})
		if err != nil {
			t.Errorf("start the Temporal server: %v", err)
		}
		up <- srv
	}()
	w, err := worker.Start(ctx, tc, cfg, &activities.Activities{})
	srv := <-up
	if srv != nil {
		defer func() { _ = srv.Stop() }()
	}
	if err != nil {
		t.Fatalf("worker.Start while Temporal was away = %v, want it to wait and start", err)
	}
	defer w.Stop()
	if took := time.Since(began); took < 2*time.Second {
		t.Errorf("the worker started in %v, before the server was up", took)
	}
}
