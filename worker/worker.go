// Package worker runs certdesk's Temporal worker: it registers the
// workflows and activities and sets the worker's tuning.
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
)

// Options returns the worker's tuning; see the README's "Worker tuning".
func Options(cfg config.Config) sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     100,
		MaxConcurrentWorkflowTaskExecutionSize: 100,
	}
}

// New builds a worker with every workflow and activity registered.
func New(c client.Client, cfg config.Config, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, cfg.TaskQueue, Options(cfg))
	Register(w, acts)
	return w
}

// Register registers certdesk's workflows and activities on a worker (or a
// test environment, which has the same methods).
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterActivity(acts)
}

// Run runs a worker until ctx is done.
func Run(ctx context.Context, c client.Client, cfg config.Config, acts *activities.Activities) error {
	w := New(c, cfg, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	slog.Info("worker started", "task_queue", cfg.TaskQueue)
	<-ctx.Done()
	w.Stop()
	slog.Info("worker stopped")
	return nil
}
