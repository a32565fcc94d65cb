// Package worker runs certdesk's Temporal worker: it registers the
// workflows and activities, sets the worker's tuning, and makes sure the
// inactivity sweep's schedule exists.
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/workflows"
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
	r.RegisterWorkflow(workflows.Connect)
	r.RegisterWorkflow(workflows.Merge)
	r.RegisterWorkflow(workflows.Recovery)
	r.RegisterWorkflow(workflows.InactivitySweep)
	r.RegisterWorkflow(workflows.AccountAdded)
	r.RegisterActivity(acts)
}

// Start starts a worker and makes sure the sweep's schedule exists.
func Start(ctx context.Context, c client.Client, cfg config.Config, acts *activities.Activities) (sdkworker.Worker, error) {
	w := New(c, cfg, acts)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("worker: start: %w", err)
	}
	if err := EnsureSweepSchedule(ctx, c, cfg); err != nil {
		w.Stop()
		return nil, err
	}
	return w, nil
}

// Run runs a worker until ctx is done.
func Run(ctx context.Context, c client.Client, cfg config.Config, acts *activities.Activities) error {
	w, err := Start(ctx, c, cfg, acts)
	if err != nil {
		return err
	}
	slog.Info("worker started", "task_queue", cfg.TaskQueue)
	<-ctx.Done()
	w.Stop()
	slog.Info("worker stopped")
	return nil
}
