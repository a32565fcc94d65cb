package workflows

// Signals and updates every case workflow understands.
const (
	// SignalLink is sent when a learner uses a link from an email.
	SignalLink = "link_used"
	// SignalEmailBounced is sent when the provider reports a bounce or drop
	// for one of the case's emails.
	SignalEmailBounced = "email_bounced"
)

// Link purposes: what using a link does. The link page says it in words
// before the learner confirms.
const (
	PurposeAccountAdded   = "connect.account_added"
	PurposeVerifyContact  = "recovery.verify"
	PurposeReply          = "recovery.reply"
	PurposeCancelRecovery = "recovery.cancel"
)

// LinkUsed is the payload of SignalLink.
type LinkUsed struct {
	TokenID   string
	Step      string
	Purpose   string
	Recipient string
	// Reply is the learner's answer, for PurposeReply.
	Reply string
}

// EmailBounced is the payload of SignalEmailBounced.
type EmailBounced struct {
	Step   string
	Reason string
}
