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

// BaselineDesk is the engine's own limit for a decision: a workflow that
// waits for an Update, takes it in its handler, writes as many local no-op
// activities as the case does when it records the decision, then runs the
// no-op activities the case runs after it.
func BaselineDesk(ctx workflow.Context, in BaselineInput) error {
	decided := false
	if err := workflow.SetUpdateHandler(ctx, updateDecide, func(ctx workflow.Context, _ map[string]string) error {
		decided = true
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return decided }); err != nil {
		return err
	}
	return Baseline(ctx, in)
}

// updateDecide is the name of certdesk's decision update, which the
// baseline takes too.
const updateDecide = "decide"
