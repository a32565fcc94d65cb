package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// SweepScheduleID is the id of the Temporal Schedule that runs the sweep daily.
const SweepScheduleID = "certdesk-inactivity-sweep"

// SweepInput is the sweep's input (empty: it reads the time from the workflow).
type SweepInput struct{}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Reminded    int
	Inactivated int
}

// InactivitySweep reminds accounts unused for 23 months and makes those
// unused for 24 months inactive. See DESIGN.md, "Inactivity sweep".
func InactivitySweep(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	return SweepResult{}, temporal.NewNonRetryableApplicationError("not implemented", "todo", nil)
}
