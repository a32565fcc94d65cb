package bench

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

// BaselineInput says how many no-op activities the baseline runs: as many
// local and regular activities as the case it stands beside.
type BaselineInput struct {
	Local, Regular int
}

// Baseline is the engine's own limit on this machine: a workflow that runs
// the same number of activities as a connect case, each doing nothing, on
// the same server and worker in the same run. certdesk's throughput is
// reported as a ratio to it.
func Baseline(ctx workflow.Context, in BaselineInput) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for range in.Local {
		if err := workflow.ExecuteLocalActivity(lctx, NoOp).Get(ctx, nil); err != nil {
			return err
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	for range in.Regular {
		if err := workflow.ExecuteActivity(actx, NoOp).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// NoOp is the baseline's activity.
func NoOp(context.Context) error { return nil }
