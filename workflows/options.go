package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The options of every activity a case workflow runs, in one place: what
// each kind of step may take, and how it is retried. Business refusals are
// non-retryable errors (see refusal); anything else is an outage to
// wait out.

// projection is the options of the projection writes: local activities
// (short, idempotent, no round trip through the server), retried through a
// database outage.
func projection(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
}

// activityOptions is the options of the activities that change the domain
// (a merge, a connection, a re-binding): short transactions, retried with
// backoff through outages; business refusals are non-retryable.
func activityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

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

// EmailActivityOptions are the options of SendEmail: SendGrid may be down
// or throttling for a while, so attempts go on with backoff (a 429 sets its
// own delay from X-RateLimit-Reset) for up to a day; a refusal (4xx) is
// non-retryable and shows on the case.
var EmailActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
	},
}

// sweepActivity is the options of the sweep's paged activities: long,
// heartbeating, and given up well before the next day's run (what is left
// is still queued, and that run takes it up).
func sweepActivity(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Hour,
		HeartbeatTimeout:       time.Minute,
		ScheduleToCloseTimeout: 20 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Minute,
		},
	})
}
