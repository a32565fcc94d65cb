package worker_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

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
