package mail

// The message kinds. Each is one SendGrid dynamic template (its id in
// SENDGRID_TEMPLATE_<KIND>) and one embedded template for the captured
// mailbox (templates/<kind>.tmpl). Every template receives "name" (the
// recipient's name) and "case_id", plus the fields listed here.
const (
	ConnectAddAccount = "connect_add_account"
	ConnectCompleted  = "connect_completed"
	ConnectRejected   = "connect_rejected"
	ConnectExpired    = "connect_expired"

	MergeCompleted = "merge_completed"
	MergeRejected  = "merge_rejected"
	MergeUndone    = "merge_undone"

	RecoveryVerify      = "recovery_verify"
	RecoveryRequestInfo = "recovery_request_info"
	RecoveryRejected    = "recovery_rejected"
	RecoveryCoolingOff  = "recovery_cooling_off"
	RecoveryCompleted   = "recovery_completed"
	RecoveryCancelled   = "recovery_cancelled"
	RecoveryApproved    = "recovery_approved"

	CaseReply          = "case_reply"
	CaseEscalated      = "case_escalated"
	CaseSecurityReview = "case_security_review"
	CaseFailed         = "case_failed"

	InactivityReminder = "inactivity_reminder"
	AccountInactive    = "account_inactive"
	AccountAdded       = "account_added"

	CaseAssigned = "case_assigned"
)

// KindInfo documents a message kind: what it says and its data.
type KindInfo struct {
	Kind    string
	Purpose string
	Data    []string // fields besides name and case_id
	Links   bool     // carries a token link (click tracking off)
}

// Kinds lists every message kind; the README's table is this list.
var Kinds = []KindInfo{
	{ConnectAddAccount, "connect: the steps to add the personal account that owns the certification profile, and an \"I've added it\" link", []string{"personal_hint", "link", "expires_at"}, true},
	{ConnectCompleted, "connect: the certification profile is connected", []string{"mcid"}, false},
	{ConnectRejected, "connect: why it could not connect and what to do", []string{"reason", "guidance"}, false},
	{ConnectExpired, "connect: the case waited 14 days for the account and closed", []string{}, false},
	{MergeCompleted, "merge: the profiles were merged", []string{"target_mcid", "merged_mcids", "certifications_moved", "transcript_moved"}, false},
	{MergeRejected, "merge: an agent rejected the merge", []string{"note"}, false},
	{MergeUndone, "unmerge: to each profile's owner, a merge was undone; every profile is back as it was", []string{"mcid", "target_mcid", "restored_mcids"}, false},
	{RecoveryVerify, "recovery: confirm the contact address", []string{"link", "expires_at"}, true},
	{RecoveryRequestInfo, "recovery: the agent needs more information; reply link", []string{"message", "link", "expires_at"}, true},
	{RecoveryRejected, "recovery: the request was rejected", []string{"note"}, false},
	{RecoveryCoolingOff, "recovery: notice to every address on file, with a \"this wasn't me\" link", []string{"mcid", "new_account", "effective_at", "link"}, true},
	{RecoveryCompleted, "recovery: the profile is bound to the new account (to the old and the new address)", []string{"mcid", "new_account"}, false},
	{RecoveryCancelled, "recovery: to the requester, the owner stopped it with the \"this wasn't me\" link; nothing changed", []string{"mcid"}, false},
	{RecoveryApproved, "recovery: to the requester, an agent approved; the date the profile moves unless an address on file stops it", []string{"new_account", "effective_at"}, false},
	{CaseReply, "an agent's reply to the learner, from the case's reply address", []string{"message", "subject"}, false},
	{CaseEscalated, "to supervisors: a case waited past its SLA", []string{"kind", "subject", "waiting_since", "case_url"}, false},
	{CaseFailed, "to supervisors: a case's workflow failed for an unplanned reason; the case shows failed, its timeline says why", []string{"kind", "subject", "case_url"}, false},
	{CaseAssigned, "to a staff member who asked for it: someone assigned them a case", []string{"assigned_by", "subject", "case_url"}, false},
	{CaseSecurityReview, "to supervisors: an owner stopped a recovery (\"this wasn't me\"); the case awaits security review", []string{"subject", "case_url"}, false},
	{InactivityReminder, "an account unused for 23 months: sign in to keep it", []string{"email", "inactive_on"}, false},
	{AccountInactive, "an account unused for 24 months is inactive: how to recover", []string{"email", "recovery_url"}, false},
	{AccountAdded, "an account was added to a learning profile: where, when, and what to do if it was not you", []string{"email", "added_by", "added_at", "recovery_url"}, false},
}

// Replyable reports whether a reply to a message of this kind belongs on
// its case: every case email to a learner. Supervisors' notices and the
// account emails (no case) get no reply address.
func Replyable(kind string) bool {
	switch kind {
	case CaseEscalated, CaseSecurityReview, CaseFailed, CaseAssigned, InactivityReminder, AccountInactive, AccountAdded:
		return false
	}
	return Known(kind)
}

// Known reports whether kind is a message kind.
func Known(kind string) bool {
	for _, k := range Kinds {
		if k.Kind == kind {
			return true
		}
	}
	return false
}
