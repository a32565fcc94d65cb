package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// CaseReplyWorkflowID is the id of the email that carries one agent's
// reply: one per message, so sending it twice sends one email.
func CaseReplyWorkflowID(messageID string) string { return "reply-" + messageID }

// CaseReplyInput is an agent's reply to a learner, recorded on the case.
type CaseReplyInput struct {
	CaseID    string
	MessageID string
	To        string
	ToName    string
	Subject   string
	Body      string
}

// CaseReply emails an agent's reply to the learner, from the case's reply
// address (their answer lands on the case). The reply is on the case's
// timeline already; this only delivers it, retried through a provider
// outage like every case email.
func CaseReply(ctx workflow.Context, in CaseReplyInput) error {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, EmailActivityOptions), acts.SendEmail, activities.SendEmailInput{
		CaseID: in.CaseID, Step: "reply-" + in.MessageID, Kind: mail.CaseReply, To: in.To, ToName: in.ToName,
		Data: map[string]any{"message": in.Body, "subject": in.Subject},
	}).Get(ctx, nil)
}
