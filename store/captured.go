package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk"
)

// CapturedMail is a message dev mode kept instead of sending it, rendered.
type CapturedMail struct {
	ID     string `json:"id"`
	ToAddr string `json:"to"`
	// ReplyTo is where a reply to the message goes: the case's reply
	// address for a learner (Conversations).
	ReplyTo   string          `json:"reply_to"`
	Subject   string          `json:"subject"`
	Kind      string          `json:"kind"`
	CaseID    string          `json:"case_id"`
	Step      string          `json:"step"`
	HTML      string          `json:"html"`
	Text      string          `json:"text"`
	Links     json.RawMessage `json:"links"`
	CreatedAt time.Time       `json:"created_at"`
}

// SaveCapturedMail stores a captured message.
func (s *Store) SaveCapturedMail(ctx context.Context, m *CapturedMail) error {
	if m.ID == "" {
		m.ID = certdesk.NewID()
	}
	m.ToAddr = certdesk.NormalizeEmail(m.ToAddr)
	m.CreatedAt = s.now()
	if len(m.Links) == 0 {
		m.Links = json.RawMessage(`[]`)
	}
	if err := s.db.WithContext(ctx).Create(m).Error; err != nil {
		return fmt.Errorf("store: capture mail: %w", translate(err))
	}
	return nil
}

// CapturedMails lists captured messages, newest first, optionally for one
// recipient or one case.
func (s *Store) CapturedMails(ctx context.Context, to, caseID string, limit int) ([]CapturedMail, error) {
	var out []CapturedMail
	q := s.db.WithContext(ctx).Order("id DESC").Limit(max(1, min(limit, 500)))
	if to != "" {
		q = q.Where("to_addr = ?", certdesk.NormalizeEmail(to))
	}
	if caseID != "" {
		q = q.Where("case_id = ?", caseID)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: captured mail: %w", translate(err))
	}
	return out, nil
}

// CapturedMail finds one captured message.
func (s *Store) CapturedMail(ctx context.Context, id string) (CapturedMail, error) {
	var m CapturedMail
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return m, fmt.Errorf("store: captured mail %q: %w", id, translate(err))
	}
	return m, nil
}
