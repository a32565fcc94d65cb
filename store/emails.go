package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// Email statuses.
const (
	EmailPending   = "pending"   // recorded, not handed to the provider yet
	EmailSending   = "sending"   // handed over; the outcome is not recorded yet
	EmailSent      = "sent"      // the provider accepted it
	EmailFailed    = "failed"    // the provider refused it for good
	EmailDelivered = "delivered" // the provider's webhook says delivered
	EmailBounced   = "bounced"   // bounced or dropped
)

// Email is one message of a case step. The (case, step) pair is unique:
// it is recorded before sending, so a retried activity or a replayed
// workflow finds it instead of sending a second copy.
type Email struct {
	ID          string     `json:"id"`
	CaseID      string     `json:"case_id"`
	Step        string     `json:"step"`
	Kind        string     `json:"kind"`
	ToAddr      string     `json:"to"`
	Subject     string     `json:"subject"`
	Status      string     `json:"status"`
	ProviderID  string     `json:"provider_id,omitempty"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// CreateEmail records a message for a case step; a step that has one is
// ECONFLICT (then EmailForStep returns it).
func (s *Store) CreateEmail(ctx context.Context, e *Email) error {
	now := s.now()
	if e.ID == "" {
		e.ID = certdesk.NewID()
	}
	if e.Status == "" {
		e.Status = EmailPending
	}
	e.ToAddr = certdesk.NormalizeEmail(e.ToAddr)
	e.CreatedAt, e.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("store: record email %s/%s: %w", e.CaseID, e.Step, translate(err))
	}
	return nil
}

// EmailForStep returns the message of a case step.
func (s *Store) EmailForStep(ctx context.Context, caseID, step string) (Email, error) {
	var e Email
	if err := s.db.WithContext(ctx).Where("case_id = ? AND step = ?", caseID, step).Take(&e).Error; err != nil {
		return e, fmt.Errorf("store: email %s/%s: %w", caseID, step, translate(err))
	}
	return e, nil
}

// EmailsOfCase lists a case's messages, oldest first.
func (s *Store) EmailsOfCase(ctx context.Context, caseID string) ([]Email, error) {
	var out []Email
	if err := s.db.WithContext(ctx).Where("case_id = ?", caseID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: emails of %q: %w", caseID, translate(err))
	}
	return out, nil
}

// MarkEmailSending records an attempt to hand the message to the provider.
func (s *Store) MarkEmailSending(ctx context.Context, id, subject string) error {
	err := s.db.WithContext(ctx).Model(&Email{}).Where("id = ?", id).Updates(map[string]any{
		"status": EmailSending, "subject": subject, "attempts": gorm.Expr("attempts + 1"), "updated_at": s.now(),
	}).Error
	if err != nil {
		return fmt.Errorf("store: email %s sending: %w", id, translate(err))
	}
	return nil
}

// MarkEmailSent records that the provider accepted the message.
func (s *Store) MarkEmailSent(ctx context.Context, id, providerID string) error {
	now := s.now()
	err := s.db.WithContext(ctx).Model(&Email{}).Where("id = ? AND status IN ?", id, []string{EmailPending, EmailSending}).
		Updates(map[string]any{"status": EmailSent, "provider_id": providerID, "sent_at": now, "updated_at": now, "last_error": ""}).Error
	if err != nil {
		return fmt.Errorf("store: email %s sent: %w", id, translate(err))
	}
	return nil
}

// MarkEmailRetry records a failed attempt that will be retried.
func (s *Store) MarkEmailRetry(ctx context.Context, id, reason string) error {
	err := s.db.WithContext(ctx).Model(&Email{}).Where("id = ?", id).
		Updates(map[string]any{"status": EmailPending, "last_error": clip(reason), "updated_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("store: email %s retry: %w", id, translate(err))
	}
	return nil
}

// FailEmail records that the provider refused the message for good and,
// when it belongs to a case, puts the failure on the case's timeline: the
// step failed visibly.
func (s *Store) FailEmail(ctx context.Context, e Email, reason string) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&Email{}).Where("id = ?", e.ID).
			Updates(map[string]any{"status": EmailFailed, "last_error": clip(reason), "updated_at": s.now()}).Error
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&caseRow{}).Where("id = ?", e.CaseID).Count(&n).Error; err != nil || n == 0 {
			return err
		}
		_, _, err = s.changeCase(tx, Change{CaseID: e.CaseID, Event: Event{
			Actor: certdesk.ActorSystem, Type: certdesk.EventEmailFailed,
			Data: map[string]string{"step": e.Step, "kind": e.Kind, "reason": clip(reason)},
		}})
		return err
	})
	if err != nil {
		return fmt.Errorf("store: email %s failed: %w", e.ID, err)
	}
	return nil
}

// EmailDelivered records the provider's delivery report; it returns the
// message (ENOTFOUND when no message has this case and step).
func (s *Store) EmailDelivered(ctx context.Context, caseID, step string, at time.Time) (Email, error) {
	return s.emailReport(ctx, caseID, step, map[string]any{"status": EmailDelivered, "delivered_at": at.UTC()})
}

// EmailBounced records a bounce or a drop.
func (s *Store) EmailBounced(ctx context.Context, caseID, step, reason string) (Email, error) {
	return s.emailReport(ctx, caseID, step, map[string]any{"status": EmailBounced, "last_error": clip(reason)})
}

func (s *Store) emailReport(ctx context.Context, caseID, step string, set map[string]any) (Email, error) {
	set["updated_at"] = s.now()
	res := s.db.WithContext(ctx).Model(&Email{}).Where("case_id = ? AND step = ?", caseID, step).Updates(set)
	if res.Error != nil {
		return Email{}, fmt.Errorf("store: email report: %w", translate(res.Error))
	}
	return s.EmailForStep(ctx, caseID, step)
}

// RecordWebhookEvent remembers a provider event id; false means it was seen
// before (webhooks are delivered at least once).
func (s *Store) RecordWebhookEvent(ctx context.Context, id, typ string) (bool, error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&webhookEvent{ID: id, Type: typ, ReceivedAt: s.now()})
	if res.Error != nil {
		return false, fmt.Errorf("store: webhook event: %w", translate(res.Error))
	}
	return res.RowsAffected == 1, nil
}

type webhookEvent struct {
	ID         string
	Type       string
	ReceivedAt time.Time
}

func clip(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
