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

// Duration is a time.Duration that reads well in a workflow's history
// (JSON "48h0m0s" rather than nanoseconds).
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
