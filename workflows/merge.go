package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
)

// MergeWorkflowID is the id of a merge case's workflow.
func MergeWorkflowID(caseID string) string { return "merge-" + caseID }

// MergeInput starts a merge case.
type MergeInput struct {
	CaseID     string
	ProfileIDs []string
	// TargetID is the profile to merge into; empty lets the case choose
	// (the connected profile when there is one, else the oldest).
	TargetID    string
	Note        string
	RequestedBy certdesk.Actor
	// ParentCaseID is set when a connect case runs the merge as its child.
	ParentCaseID      string
	LearningProfileID string
	AccountID         string
	AgentSLA          Duration
}

// MergeResult is how a merge case ended.
type MergeResult struct {
	Status     certdesk.Status // completed or rejected
	Resolution string
	SurvivorID string
}

// Merge folds duplicate certification profiles into one, with an agent's
// approval. See DESIGN.md, "Merge".
func Merge(ctx workflow.Context, in MergeInput) (MergeResult, error) {
	return MergeResult{}, temporal.NewNonRetryableApplicationError("not implemented", "todo", nil)
}
