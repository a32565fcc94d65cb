package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// The inactivity sweep's activities work through accounts in pages and
// heartbeat as they go, so a sweep of any size stays a few activities in
// the workflow's history.

// SweepInput is one run of the sweep.
type SweepInput struct {
	// AsOf is the time the sweep runs as (the workflow's time).
	AsOf           time.Time
	RemindMonths   int
	InactiveMonths int
	PageSize       int
	// RecoveryPath is where account_inactive sends people (made absolute
	// from the public URL).
	RecoveryPath string
}

// SweepProgress counts what a sweep activity did.
type SweepProgress struct {
	Reminded    int
	Inactivated int
	Sent        int
	// Failed counts notices the provider refused for good.
	Failed int
}

func (in SweepInput) window() store.SweepWindow {
	return store.SweepWindow{AsOf: in.AsOf, RemindMonths: in.RemindMonths, InactiveMonths: in.InactiveMonths}
}

// QueueInactivityNotices makes the accounts unused for InactiveMonths
// inactive and queues their notice, then queues a reminder for those
// unused for RemindMonths that have none for this period of inactivity.
// Retry: an account made inactive or reminded for its period leaves the
// selection, and each page is one transaction.
func (a *Activities) QueueInactivityNotices(ctx context.Context, in SweepInput) (SweepProgress, error) {
	var p SweepProgress
	for _, step := range []struct {
		queue func(context.Context, store.SweepWindow, int) (int, error)
		count *int
	}{{a.Store.QueueInactivations, &p.Inactivated}, {a.Store.QueueReminders, &p.Reminded}} {
		w := in.window()
		w.After = &store.SweepCursor{} // each step walks the accounts once
		for {
			n, err := step.queue(ctx, w, in.PageSize)
			if err != nil {
				return p, nonRetryable(err)
			}
			*step.count += n
			activity.RecordHeartbeat(ctx, p)
			if n == 0 {
				break
			}
		}
	}
	return p, nil
}

// sendProgress is the heartbeat of SendInactivityNotices: the counts, and
// the message the provider has just accepted (see accepted).
type sendProgress struct {
	SweepProgress
	Accepted *accepted
}

// SendInactivityNotices sends the pending notices of the sweep's outbox.
// Retry: each notice's email is recorded under (account, kind and period)
// before it is sent, and the provider's acceptance is kept in the heartbeat
// and then on the record, so a retry sends nothing twice; notices done
// leave the outbox.
func (a *Activities) SendInactivityNotices(ctx context.Context, in SweepInput) (SweepProgress, error) {
	var p sendProgress
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &p); err == nil && p.Accepted != nil {
			if err := a.Store.MarkEmailSent(ctx, p.Accepted.EmailID, p.Accepted.ProviderID); err != nil {
				return p.SweepProgress, err
			}
			p.Accepted = nil
		}
	}
	seen := map[string]bool{}
	for {
		page, err := a.Store.PendingNotices(ctx, in.PageSize)
		if err != nil || len(page) == 0 {
			return p.SweepProgress, err
		}
		for _, n := range page {
			key := n.EmailKey() + "/" + n.Step()
			if seen[key] {
				return p.SweepProgress, fmt.Errorf("notice %s stays pending after it was done", key)
			}
			seen[key] = true
			status, err := a.sendNotice(ctx, n, in, &p)
			if err != nil {
				return p.SweepProgress, err
			}
			if err := a.Store.NoticeDone(ctx, n, a.now()); err != nil {
				return p.SweepProgress, err
			}
			if status == store.EmailFailed {
				p.Failed++
			} else {
				p.Sent++
			}
			activity.RecordHeartbeat(ctx, p)
		}
	}
}

// sendNotice sends a notice's email once: SendEmail's rules, inside this
// activity (a nested SendEmail would share, and confuse, its heartbeat).
// It returns the email's status; a refusal for good is store.EmailFailed.
func (a *Activities) sendNotice(ctx context.Context, n store.AccountNotice, in SweepInput, p *sendProgress) (string, error) {
	e := store.Email{CaseID: n.EmailKey(), Step: n.Step(), Kind: n.Kind, ToAddr: n.ToAddr}
	if err := a.Store.CreateEmail(ctx, &e); errors.Is(err, certdesk.ErrConflict) {
		if e, err = a.Store.EmailForStep(ctx, e.CaseID, e.Step); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	if e.Status != store.EmailPending && e.Status != store.EmailSending {
		return e.Status, nil // sent (or refused) before
	}
	data := map[string]any{"email": n.ToAddr}
	switch n.Kind {
	case store.NoticeReminder:
		data["inactive_on"] = n.InactiveOn.Format("2 January 2006")
	case store.NoticeInactive:
		data["recovery_url"] = strings.TrimRight(a.Links.BaseURL, "/") + in.RecoveryPath
	}
	msg := mail.Message{Kind: n.Kind, To: n.ToAddr, ToName: n.Name, CaseID: e.CaseID, Step: e.Step, Data: data}
	subject := ""
	if r, err := mail.Render(msg); err == nil {
		subject = r.Subject
	}
	if err := a.Store.MarkEmailSending(ctx, e.ID, subject); err != nil {
		return "", err
	}
	providerID, err := a.Mailer.Send(ctx, msg)
	if err != nil {
		err = a.sendFailed(ctx, e, err)
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == "email_failed" {
			return store.EmailFailed, nil
		}
		return "", err
	}
	p.Accepted = &accepted{EmailID: e.ID, ProviderID: providerID}
	activity.RecordHeartbeat(ctx, *p)
	if err := a.Store.MarkEmailSent(ctx, e.ID, providerID); err != nil {
		return "", err
	}
	p.Accepted = nil
	return store.EmailSent, nil
}

// PruneRateLimits removes the rate-limit counters of windows that started
// before a time.
// Retry: deleting them again deletes nothing more.
func (a *Activities) PruneRateLimits(ctx context.Context, before time.Time) (int64, error) {
	// A window's count still weighs in the window after it (sliding
	// windows): keep one more day than the longest window.
	return a.Store.PruneRateLimits(ctx, before.Add(-24*time.Hour))
}

// PurgeAttachments deletes the content of the attachments of cases that
// ended more than the retention before asOf, and returns how many.
// Retry: purging again purges nothing more.
func (a *Activities) PurgeAttachments(ctx context.Context, asOf time.Time) (int64, error) {
	keep := a.AttachmentRetention
	if keep <= 0 {
		keep = certdesk.DefaultAttachmentRetention
	}
	return a.Store.PurgeAttachments(ctx, asOf.Add(-keep))
}

// RecordOpenCounts counts the open cases by kind and status for the day
// of asOf, for the dashboard's history.
// Retry: counting again the same day replaces that day's counts.
func (a *Activities) RecordOpenCounts(ctx context.Context, asOf time.Time) error {
	return a.Store.RecordOpenCounts(ctx, asOf)
}

// redactPage is how many ended cases one transaction redacts.
const redactPage = 200

// RedactEndedCases redacts the personal data of every case that ended more
// than the retention before asOf, a page per transaction, heartbeating the
// count; it returns how many.
// Retry: a redacted case is not selected again, so a retry redacts only what is left.
func (a *Activities) RedactEndedCases(ctx context.Context, asOf time.Time) (int, error) {
	keep := a.Retention
	if keep <= 0 {
		keep = certdesk.DefaultRetention
	}
	total := 0
	for {
		n, err := a.Store.RedactEndedCases(ctx, asOf.Add(-keep), redactPage)
		if err != nil {
			return total, err
		}
		if total += n; n < redactPage {
			return total, nil
		}
		activity.RecordHeartbeat(ctx, total)
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
