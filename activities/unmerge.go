package activities

import (
	"context"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// ReviewUnmergeInput is an undo request to check.
type ReviewUnmergeInput struct {
	MergeCaseID string
	Window      time.Duration
}

// ReviewUnmerge checks that a merge can be undone exactly now and computes
// the preview (see store.ReviewUnmerge). A merge that cannot be undone is a
// non-retryable error whose message says why.
// Retry: it only reads.
func (a *Activities) ReviewUnmerge(ctx context.Context, in ReviewUnmergeInput) (certdesk.UnmergeReview, error) {
	r, err := a.Store.ReviewUnmerge(ctx, in.MergeCaseID, in.Window)
	return r, nonRetryable(err)
}

// UnmergeProfilesInput is an approved undo.
type UnmergeProfilesInput struct {
	CaseID string
	// Step is the workflow's number for the case's "unmerged" event.
	Step        int64
	Actor       certdesk.Actor
	MergeCaseID string
	Window      time.Duration
}

// UnmergeProfiles undoes a merge in one transaction, together with the
// case's "unmerged" event (see store.UnmergeProfiles).
// Retry: the transaction carries the workflow step; a step the case applied
// before answers the counts it recorded and changes nothing.
func (a *Activities) UnmergeProfiles(ctx context.Context, in UnmergeProfilesInput) (certdesk.UnmergeCounts, error) {
	out, err := a.Store.UnmergeProfiles(ctx, store.UnmergeRequest{
		CaseID: in.CaseID, WorkflowStep: in.Step, Actor: in.Actor, MergeCaseID: in.MergeCaseID, Window: in.Window,
	})
	return out, nonRetryable(err)
}
