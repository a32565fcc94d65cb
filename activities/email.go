package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
)

// LinkSpec asks SendEmail to put a fresh single-use link in the message.
type LinkSpec struct {
	// Purpose says what using the link does (the workflow reads it).
	Purpose string
	TTL     time.Duration
}

// SendEmailInput is one email of a case step.
type SendEmailInput struct {
	CaseID string
	Step   string
	Kind   string
	To     string
	ToName string
	Data   map[string]any
	// Link, when set, puts a new link (token bound to this case, step and
	// recipient) in Data["link"], and its expiry in Data["expires_at"].
	Link *LinkSpec
	// Locale is the recipient's language when the case knows it (its
	// learner's); "" looks for the one kept for the address, else English.
	// Staff get English whatever it says.
	Locale string `json:",omitempty"`
}

// SendEmailResult says what became of the message.
type SendEmailResult struct {
	EmailID    string
	Status     string
	ProviderID string
	// AlreadySent is true when an earlier attempt or run had sent it.
	AlreadySent bool
}

// accepted is the heartbeat an attempt records when the provider accepted
// the message and the row could not say so (the database is down): the
// retry finds it and does not send a second copy.
type accepted struct {
	EmailID    string
	ProviderID string
}

// SendEmail sends the message of a case step exactly once.
// Retry: the (case, step) row is recorded before sending, and the provider's
// acceptance is kept on the row (or, when the database is away, in the
// activity's heartbeat); a retry that finds either does not send again.
// (Only a process killed in the milliseconds between the provider's answer
// and that write can send twice.)
func (a *Activities) SendEmail(ctx context.Context, in SendEmailInput) (SendEmailResult, error) {
	if !mail.Known(in.Kind) {
		return SendEmailResult{}, temporal.NewNonRetryableApplicationError("unknown message kind "+in.Kind, "invalid", nil)
	}
	if activity.HasHeartbeatDetails(ctx) {
		var prev accepted
		if err := activity.GetHeartbeatDetails(ctx, &prev); err == nil && prev.EmailID != "" {
			if err := a.Store.MarkEmailSent(ctx, prev.EmailID, prev.ProviderID); err != nil {
				return SendEmailResult{}, err
			}
			return SendEmailResult{EmailID: prev.EmailID, Status: store.EmailSent, ProviderID: prev.ProviderID, AlreadySent: true}, nil
		}
	}

	e := store.Email{CaseID: in.CaseID, Step: in.Step, Kind: in.Kind, ToAddr: in.To}
	if err := a.Store.CreateEmail(ctx, &e); errors.Is(err, certdesk.ErrConflict) {
		if e, err = a.Store.EmailForStep(ctx, in.CaseID, in.Step); err != nil {
			return SendEmailResult{}, err
		}
	} else if err != nil {
		return SendEmailResult{}, err
	}
	switch e.Status {
	case store.EmailSent, store.EmailDelivered, store.EmailBounced:
		return SendEmailResult{EmailID: e.ID, Status: e.Status, ProviderID: e.ProviderID, AlreadySent: true}, nil
	case store.EmailFailed:
		return SendEmailResult{}, temporal.NewNonRetryableApplicationError("the provider refused this email: "+e.LastError, "email_failed", nil)
	}

	msg := mail.Message{Kind: in.Kind, To: in.To, ToName: in.ToName, CaseID: in.CaseID, Step: in.Step, Data: map[string]any{},
		Locale: a.locale(ctx, in)}
	if a.ReplyTo != nil && in.CaseID != "" && mail.Replyable(in.Kind) {
		msg.ReplyTo = a.ReplyTo(in.CaseID, in.To)
	}
	if url, err := a.caseURL(ctx, in); err != nil {
		return SendEmailResult{}, err
	} else if url != "" {
		// A link that opens the case: never through click tracking.
		msg.Data["case_url"], msg.HasLinks = url, true
	}
	for k, v := range in.Data {
		// A workflow knows paths, not the public URL: "/console/…" in a
		// *_url field becomes an absolute link here.
		if p, ok := v.(string); ok && strings.HasSuffix(k, "_url") && strings.HasPrefix(p, "/") {
			v = strings.TrimRight(a.Links.BaseURL, "/") + p
		}
		msg.Data[k] = v
	}
	if in.Link != nil {
		url, expires, err := a.issueLink(ctx, in)
		if err != nil {
			return SendEmailResult{}, err
		}
		msg.Data["link"], msg.Data["expires_at"], msg.HasLinks = url, mail.FormatTime(expires, msg.Locale), true
	}
	subject := ""
	if r, err := mail.Render(msg); err == nil {
		subject = r.Subject
	}
	if err := a.Store.MarkEmailSending(ctx, e.ID, subject); err != nil {
		return SendEmailResult{}, err
	}
	providerID, err := a.Mailer.Send(ctx, msg)
	if err != nil {
		return SendEmailResult{}, a.sendFailed(ctx, e, err)
	}
	telemetry.EmailSend(in.Kind, telemetry.EmailSent)
	// The row first: its write takes milliseconds, while the first
	// heartbeat waits (up to seconds) for a Temporal server that is away,
	// and a kill in that wait sent the email again. The heartbeat keeps
	// the acceptance only when the row cannot.
	if err := a.Store.MarkEmailSent(ctx, e.ID, providerID); err != nil {
		activity.RecordHeartbeat(ctx, accepted{EmailID: e.ID, ProviderID: providerID})
		return SendEmailResult{}, err
	}
	return SendEmailResult{EmailID: e.ID, Status: store.EmailSent, ProviderID: providerID}, nil
}

// locale is the language of a message: the case's for its learner, else
// the one kept for the address (a profile's owner, an account's), else
// English; always English for staff. A failed look-up costs only the
// language.
func (a *Activities) locale(ctx context.Context, in SendEmailInput) string {
	if mail.ToStaff(in.Kind) {
		return ""
	}
	if in.Locale != "" {
		return in.Locale
	}
	lang, err := a.Store.LanguageOf(ctx, in.To)
	if err != nil {
		slog.WarnContext(ctx, "recipient's language not read", "err", err)
	}
	return lang
}

// issueLink makes the token of the message's link; it supersedes the link
// of an earlier attempt, which was never delivered.
func (a *Activities) issueLink(ctx context.Context, in SendEmailInput) (string, time.Time, error) {
	raw, hash := certdesk.NewToken()
	t := &store.LinkToken{
		Hash: hash, CaseID: in.CaseID, Step: in.Step, Purpose: in.Link.Purpose, Recipient: in.To,
		ExpiresAt: a.now().Add(in.Link.TTL),
	}
	if err := a.Store.IssueLinkToken(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return a.Links.URL(raw), t.ExpiresAt, nil
}

// sendFailed records a failed send and returns the error that tells
// Temporal what to do: wait as long as the provider asked (429), back off
// (5xx, network), or stop and show the failure on the case (other 4xx).
func (a *Activities) sendFailed(ctx context.Context, e store.Email, err error) error {
	se := mail.AsSendError(err)
	if !se.Retryable {
		if ferr := a.Store.FailEmail(ctx, e, se.Error()); ferr != nil {
			return ferr // retried: the refusal is recorded on the next attempt
		}
		telemetry.EmailSend(e.Kind, telemetry.EmailFailed)
		return temporal.NewNonRetryableApplicationError(se.Error(), "email_failed", nil)
	}
	telemetry.EmailSend(e.Kind, telemetry.EmailRetry)
	_ = a.Store.MarkEmailRetry(ctx, e.ID, se.Error()) // best effort: it only informs
	if se.RetryAfter > 0 {
		// A bogus far-future reset must not park the email for days.
		return temporal.NewApplicationErrorWithOptions(se.Error(), "rate_limited",
			temporal.ApplicationErrorOptions{NextRetryDelay: min(se.RetryAfter, 15*time.Minute)})
	}
	return fmt.Errorf("send %s/%s: %w", e.CaseID, e.Step, se)
}

// caseURL is the portal's page of the case for an email to the learner the
// case is about ("" for anyone else: a profile's owner told of a recovery
// or an undo sees no one else's conversation).
func (a *Activities) caseURL(ctx context.Context, in SendEmailInput) (string, error) {
	if a.CaseToken == nil || in.CaseID == "" || !mail.Replyable(in.Kind) {
		return "", nil
	}
	cs, err := a.Store.Case(ctx, in.CaseID)
	if err != nil {
		return "", err
	}
	if cs.LearnerEmail == "" || certdesk.NormalizeEmail(cs.LearnerEmail) != certdesk.NormalizeEmail(in.To) {
		return "", nil
	}
	tok := a.CaseToken(in.CaseID, in.To)
	if tok == "" {
		return "", nil
	}
	return strings.TrimRight(a.Links.BaseURL, "/") + CasePath(in.CaseID, tok), nil
}

// AssigneeNoticeInput asks whether a staff member wants to be emailed an
// assignment someone else made.
type AssigneeNoticeInput struct {
	AgentID string
	By      string // the staff member who assigned the case
}

// AssigneeNotice is who to email of an assignment, if anyone.
type AssigneeNotice struct {
	// Wanted is their "Email me when a case is assigned to me" (false for
	// a member disabled meanwhile).
	Wanted      bool
	Email, Name string
	ByName      string
}

// AssigneeNoticeFor reads an assignee's wish to be emailed and the names
// the email needs.
// Retry: it only reads.
func (a *Activities) AssigneeNoticeFor(ctx context.Context, in AssigneeNoticeInput) (AssigneeNotice, error) {
	ag, err := a.Store.Agent(ctx, in.AgentID)
	if err != nil {
		return AssigneeNotice{}, err
	}
	n, err := a.Store.StaffNotices(ctx, in.AgentID)
	if err != nil {
		return AssigneeNotice{}, err
	}
	out := AssigneeNotice{Wanted: n.EmailOnAssign && ag.Active(), Email: ag.Email, Name: ag.Name, ByName: "A colleague"}
	if by, err := a.Store.Agent(ctx, in.By); err == nil {
		out.ByName = by.Name
	}
	return out, nil
}
