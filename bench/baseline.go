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
// waits for an Update and answers it as certdesk's decision does — once
// the decision is recorded (here one local no-op, where the case writes its
// "decided" event) — then runs the rest of the no-op activities the case
// runs after it.
func BaselineDesk(ctx workflow.Context, in BaselineInput) error {
	decided, recorded := false, false
	if err := workflow.SetUpdateHandler(ctx, updateDecide, func(ctx workflow.Context, _ map[string]string) error {
		decided = true
		return workflow.Await(ctx, func() bool { return recorded })
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return decided }); err != nil {
		return err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, NoOp).Get(ctx, nil); err != nil {
		return err
	}
	recorded = true
	in.Local = max(in.Local-1, 0)
	if err := Baseline(ctx, in); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// updateDecide is the name of certdesk's decision update, which the
// baseline takes too.
const updateDecide = "decide"
