package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
)

// RecoveryWorkflowID is the id of a recovery case's workflow.
func RecoveryWorkflowID(caseID string) string { return "recovery-" + caseID }

// RecoveryClaim is what the public form asks.
type RecoveryClaim struct {
	LegalName       string
	ContactEmail    string
	MCID            string
	PreviousEmail   string
	NewAccountEmail string
	Description     string
}

// RecoveryInput starts a recovery case.
type RecoveryInput struct {
	CaseID     string
	Claim      RecoveryClaim
	VerifyTTL  Duration
	AgentSLA   Duration
	CoolingOff Duration
	// LearnerWait bounds the wait for a reply to request_info.
	LearnerWait Duration
}

// RecoveryResult is how a recovery case ended.
type RecoveryResult struct {
	Status     certdesk.Status
	Resolution string
	ProfileID  string
}

// Recovery re-binds a lost certification profile to a new account, through
// verification, an agent's review and a cooling-off. See DESIGN.md.
func Recovery(ctx workflow.Context, in RecoveryInput) (RecoveryResult, error) {
	return RecoveryResult{}, temporal.NewNonRetryableApplicationError("not implemented", "todo", nil)
}
