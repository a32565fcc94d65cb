// Package worker runs certdesk's Temporal worker: it registers the
// workflows and activities, sets the worker's tuning, and makes sure the
// inactivity sweep's schedule exists.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/workflows"
)

// Options returns the worker's tuning; see the README's "Worker tuning".
// A stopping worker takes no new tasks and gives the running ones
// WorkerStopTimeout to finish; only then are their contexts cancelled (the
// SDK's default, 0, cancels them at once: an email half sent is sent again).
func Options(cfg config.Config) sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     100,
		MaxConcurrentWorkflowTaskExecutionSize: 100,
		WorkerStopTimeout:                      cfg.WorkerStopTimeout,
		DeploymentOptions:                      DeploymentOptions(cfg),
	}
}

// New builds a worker with every workflow and activity registered.
func New(c client.Client, cfg config.Config, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, cfg.TaskQueue, Options(cfg))
	Register(w, acts)
	return w
}

// Register registers certdesk's workflows and activities on a worker (or a
// test environment, which has the same methods), each workflow with its
// versioning behaviour (used only by a versioned worker; see versioning.go).
func Register(r sdkworker.Registry, acts *activities.Activities) {
	for _, wt := range workflowTypes {
		r.RegisterWorkflowWithOptions(wt.fn, workflow.RegisterOptions{VersioningBehavior: wt.behavior})
	}
	r.RegisterActivity(acts)
}

// Start starts a worker and makes sure the sweep's schedule exists and the
// webhook sender runs.
func Start(ctx context.Context, c client.Client, cfg config.Config, acts *activities.Activities) (sdkworker.Worker, error) {
	w, err := startWaiting(ctx, func() sdkworker.Worker { return New(c, cfg, acts) })
	if err != nil {
		return nil, err
	}
	if err := EnsureSweepSchedule(ctx, c, cfg); err != nil {
		w.Stop()
		return nil, err
	}
	if err := EnsureWebhookDelivery(ctx, c, cfg); err != nil {
		w.Stop()
		return nil, err
	}
	return w, nil
}

// temporalWait is how long a starting worker waits for a Temporal server
// that does not answer (restarting, or not up yet), as the database is
// waited for: a worker started during a restart of the server would
// otherwise exit at once.
const temporalWait = time.Minute

// startWaiting starts a worker made by newWorker, trying again while
// Temporal is unavailable, up to temporalWait. Each try is a new worker:
// the SDK's Start runs once per worker, failed or not.
func startWaiting(ctx context.Context, newWorker func() sdkworker.Worker) (sdkworker.Worker, error) {
	deadline := time.Now().Add(temporalWait)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		w := newWorker()
		err := w.Start()
		if err == nil {
			return w, nil
		}
		var unavailable *serviceerror.Unavailable
		if !errors.As(err, &unavailable) && status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			return nil, fmt.Errorf("worker: start: %w", err)
		}
		slog.WarnContext(ctx, "Temporal is unavailable; trying again", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("worker: start: %w", err)
		case <-time.After(wait):
		}
	}
}

// Run runs a worker until ctx is done, then stops it and returns once it
// has stopped: the running tasks have finished, or had WorkerStopTimeout.
// status (nil for none) follows it, for /readyz.
func Run(ctx context.Context, c client.Client, cfg config.Config, acts *activities.Activities, status *Status) error {
	w, err := Start(ctx, c, cfg, acts)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while starting (a rolling restart's SIGTERM while
			// Temporal was slow to answer): nothing ran, so nothing to
			// drain; a clean stop, not a failure.
			slog.Info("worker stopped while starting", "err", err)
			return nil
		}
		return err
	}
	status.set(statePolling)
	slog.Info("worker started", "task_queue", cfg.TaskQueue, "stop_timeout", cfg.WorkerStopTimeout.String())
	logRouting(ctx, c, cfg)
	<-ctx.Done()
	status.set(stateStopping)
	slog.Info("worker stopping: no new tasks; running ones have until the stop timeout", "stop_timeout", cfg.WorkerStopTimeout.String())
	start := time.Now()
	w.Stop()
	status.set(stateStopped)
	slog.Info("worker stopped", "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// EnsureWebhookDelivery starts the webhook sender's workflow unless it
// runs: every worker calls it at start, the first starts it.
func EnsureWebhookDelivery(ctx context.Context, c client.Client, cfg config.Config) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WebhookWorkflowID(cfg.TaskQueue),
		TaskQueue:                cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.WebhookDelivery)
	if err != nil {
		return fmt.Errorf("worker: start the webhook sender: %w", err)
	}
	return nil
}
