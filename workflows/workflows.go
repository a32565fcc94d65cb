// Package workflows holds certdesk's case workflows: Connect, Merge,
// Recovery and the InactivitySweep. It is deterministic code only: every
// side effect is an activity (package activities), every wait a timer, a
// signal or an update.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the one task queue certdesk's workers poll.
const TaskQueue = "certdesk"

// storeActivity is the options of an activity that writes the store: short,
// retried with backoff for as long as a database outage may last (a case
// must not fail because PostgreSQL restarted).
func storeActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			// No attempt limit: business errors are non-retryable, and
			// anything else is an outage to wait out.
		},
	})
}
