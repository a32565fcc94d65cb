package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// AccountAddedWorkflowID is the id of the notice that an account was added
// to a learning profile: one per account and learning profile, so asking
// twice sends one email.
func AccountAddedWorkflowID(accountID, learningProfileID string) string {
	return "account-added-" + accountID + "-" + learningProfileID
}

// AccountAddedInput is an account just added to a learning profile.
type AccountAddedInput struct {
	AccountID string
	Email     string
	Name      string
	// LearningProfileID and AddedBy say where it was added and by whom
	// (the address the learning profile signs in with).
	LearningProfileID string
	AddedBy           string
	AddedAt           time.Time
}

// AccountAdded tells the owner of an account that it was added to a
// learning profile, so that an addition they did not make is noticed: the
// email says where and when, and how to get help.
func AccountAdded(ctx workflow.Context, in AccountAddedInput) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, EmailActivityOptions), acts.SendEmail, activities.SendEmailInput{
		CaseID: "account:" + in.AccountID, Step: "added:" + in.LearningProfileID, Kind: mail.AccountAdded,
		To: in.Email, ToName: in.Name,
		Data: map[string]any{"email": in.Email, "added_by": in.AddedBy, "added_at": in.AddedAt.UTC().Format(timeFormat),
			"recovery_url": "/portal/recovery"},
	}).Get(ctx, nil)
}
