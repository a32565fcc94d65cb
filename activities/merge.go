package activities

import (
	"context"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// ReviewMergeInput is a merge request to check.
type ReviewMergeInput struct {
	ProfileIDs []string
	// TargetID is the requested target; empty lets the rules choose.
	TargetID string
	// Owners are the personal accounts whose profiles the target is chosen
	// from first (a connect case's merge).
	Owners []string
}

// ReviewMerge checks a merge request against the store as it is now and
// computes its preview (see store.ReviewMerge). A request the store no
// longer allows is a non-retryable error whose message says why.
// Retry: it only reads.
func (a *Activities) ReviewMerge(ctx context.Context, in ReviewMergeInput) (certdesk.MergeReview, error) {
	r, err := a.Store.ReviewMerge(ctx, in.ProfileIDs, in.TargetID, in.Owners)
	return r, nonRetryable(err)
}

// MergeProfilesInput is an approved merge.
type MergeProfilesInput struct {
	CaseID string
	// Step is the workflow's number for the case's "merged" event.
	Step      int64
	Actor     certdesk.Actor
	TargetID  string
	SourceIDs []string
}

// MergeProfiles runs an approved merge in one transaction, together with
// the case's "merged" event (see store.MergeProfiles).
// Retry: the transaction carries the workflow step; a step the case applied
// before answers the counts it recorded and changes nothing.
func (a *Activities) MergeProfiles(ctx context.Context, in MergeProfilesInput) (certdesk.MergeOutcome, error) {
	out, err := a.Store.MergeProfiles(ctx, store.MergeRequest{
		CaseID: in.CaseID, WorkflowStep: in.Step, Actor: in.Actor, TargetID: in.TargetID, SourceIDs: in.SourceIDs,
	})
	return out, nonRetryable(err)
}
