package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
)

// SignalAccountAdded is sent to a learner's connect workflow when an account
// is added to their learning profile.
const SignalAccountAdded = "account_added"

// ConnectWorkflowID is the id of a learning profile's connect workflow: one
// open connect case per learning profile, guarded by Temporal's workflow-id
// uniqueness (started with the use-existing conflict policy).
func ConnectWorkflowID(learningProfileID string) string { return "connect-" + learningProfileID }

// ConnectInput starts a connect case.
type ConnectInput struct {
	CaseID            string
	LearningProfileID string
	// AccountID is the account the learner asked from.
	AccountID string
	// LearnerWait is how long the case waits for the learner (14 days).
	LearnerWait Duration
}

// ConnectResult is how a connect case ended.
type ConnectResult struct {
	Status     certdesk.Status
	Resolution string
	ProfileID  string
}

// Connect connects a learner's certification profile to their learning
// profile. See DESIGN.md, "Connect".
func Connect(ctx workflow.Context, in ConnectInput) (ConnectResult, error) {
	return ConnectResult{}, temporal.NewNonRetryableApplicationError("not implemented", "todo", nil)
}
