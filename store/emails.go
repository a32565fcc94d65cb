package store

import (
	"context"
	"fmt"
	"time"

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
