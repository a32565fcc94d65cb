package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
)

// WebhookWorkflowID is the id of the one workflow that delivers domain
// events for the workers of a task queue; every worker makes sure it runs
// (worker.EnsureWebhookDelivery).
func WebhookWorkflowID(taskQueue string) string { return "webhook-delivery-" + taskQueue }

// webhookRuns is how many runs of the sender one execution makes before it
// continues as new (a short history).
const webhookRuns = 100

// WebhookDelivery keeps the webhook sender running: one long activity at a
// time that heartbeats every round, so a worker that dies hands the work to
// another within the heartbeat timeout. The deliveries' state is in the
// store, not here: the workflow only keeps the sender alive.
func WebhookDelivery(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
		},
	})
	for range webhookRuns {
		err := workflow.ExecuteActivity(ctx, acts.DeliverWebhooks, activities.DeliverWebhooksInput{For: 10 * time.Minute}).Get(ctx, nil)
		if err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, WebhookDelivery)
}
