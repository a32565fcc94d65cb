package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// A case's conversation: what learners write in and what agents answer
// (messages), with the evidence attached (attachments), and the canned
// responses agents insert. The timeline records that a message came
// (learner_message, agent_reply) in the message's own transaction.

// Message directions.
const (
	MessageIn  = "in"  // from a learner (email or portal)
	MessageOut = "out" // an agent's reply
)

// Message is one message of a case's conversation.
type Message struct {
	ID        string         `json:"id"`
	CaseID    string         `json:"case_id"`
	Direction string         `json:"direction"`
	Author    certdesk.Actor `json:"author"`
	FromAddr  string         `json:"from"`
	ToAddr    string         `json:"to,omitempty"`
	Subject   string         `json:"subject,omitempty"`
	Body      string         `json:"body"`
	// Held: it came from an address that is not one of the case's
	// recipients; agents see it, marked, and nothing is done with it.
	Held bool `json:"held"`
	// HeldReason says why it is held.
	HeldReason string `json:"held_reason,omitempty"`
	// MessageKey is the email's Message-ID: a message is recorded once.
	MessageKey  *string          `json:"-"`
	CreatedAt   time.Time        `json:"created_at"`
	Attachments []AttachmentInfo `json:"attachments" gorm:"-"`
}

// AttachmentInfo is what a list shows of an attachment (never its bytes).
type AttachmentInfo struct {
	ID          string     `json:"id"`
	MessageID   string     `json:"message_id"`
	Filename    string     `json:"filename"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	PurgedAt    *time.Time `json:"purged_at,omitempty"`
}

// Attachment is an attachment with its content (nil once purged).
type Attachment struct {
	ID          string
	MessageID   string
	CaseID      string
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
	Data        []byte
	CreatedAt   time.Time
	PurgedAt    *time.Time
}

// NewAttachment is a file that comes with a message.
type NewAttachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// RecordMessage stores a message and its attachments and appends its
// timeline event (typ, by the message's author) in one transaction. A
// message whose MessageKey was recorded before changes nothing: recorded is
// false and m is the message as it was first recorded.
func (s *Store) RecordMessage(ctx context.Context, m *Message, atts []NewAttachment, typ certdesk.EventType) (recorded bool, err error) {
	if m.ID == "" {
		m.ID = certdesk.NewID()
	}
	m.FromAddr, m.ToAddr = certdesk.NormalizeEmail(m.FromAddr), certdesk.NormalizeEmail(m.ToAddr)
	m.CreatedAt = s.now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "message_key"}}, DoNothing: true}).Create(m)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var first Message
			if err := tx.Where("message_key = ?", *m.MessageKey).Take(&first).Error; err != nil {
				return err
			}
			*m = first
			return nil
		}
		recorded = true
		for _, a := range atts {
			sum := sha256.Sum256(a.Data)
			row := Attachment{ID: certdesk.NewID(), MessageID: m.ID, CaseID: m.CaseID, Filename: a.Filename, ContentType: a.ContentType,
				Size: int64(len(a.Data)), SHA256: hex.EncodeToString(sum[:]), Data: a.Data, CreatedAt: m.CreatedAt}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			m.Attachments = append(m.Attachments, row.info())
		}
		data := map[string]any{"message_id": m.ID, "attachments": len(atts)}
		if m.Held {
			data["held"] = true
			data["from"] = m.FromAddr
			data["held_reason"] = m.HeldReason
		}
		_, _, err := s.changeCase(tx, Change{CaseID: m.CaseID, Event: Event{Actor: m.Author, Type: typ, Data: data}})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: record message on %q: %w", m.CaseID, err)
	}
	return recorded, nil
}

func (a Attachment) info() AttachmentInfo {
	return AttachmentInfo{ID: a.ID, MessageID: a.MessageID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, PurgedAt: a.PurgedAt}
}

// Messages returns a case's conversation, oldest first, with what each
// message has attached (not the bytes). Held messages are left out unless
// held is set (agents see them; learners do not).
func (s *Store) Messages(ctx context.Context, caseID string, held bool) ([]Message, error) {
	db := s.db.WithContext(ctx)
	q := db.Where("case_id = ?", caseID)
	if !held {
		q = q.Where("NOT held")
	}
	var out []Message
	if err := q.Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: messages of %q: %w", caseID, translate(err))
	}
	var atts []Attachment
	if err := db.Select("id, message_id, case_id, filename, content_type, size, sha256, created_at, purged_at").
		Where("case_id = ?", caseID).Order("created_at, id").Find(&atts).Error; err != nil {
		return nil, fmt.Errorf("store: attachments of %q: %w", caseID, translate(err))
	}
	for i := range out {
		out[i].Attachments = []AttachmentInfo{}
		for _, a := range atts {
			if a.MessageID == out[i].ID {
				out[i].Attachments = append(out[i].Attachments, a.info())
			}
		}
	}
	return out, nil
}

// Attachment returns an attachment with its content.
func (s *Store) Attachment(ctx context.Context, id string) (Attachment, error) {
	var a Attachment
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return a, fmt.Errorf("store: attachment %q: %w", id, translate(err))
	}
	return a, nil
}

// PurgeAttachments removes the content of the attachments of cases closed
// before the cutoff (the row stays: the conversation says a file was
// there, and when it went). It returns how many it purged.
func (s *Store) PurgeAttachments(ctx context.Context, closedBefore time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Model(&Attachment{}).
		Where("purged_at IS NULL AND case_id IN (SELECT id FROM cases WHERE closed_at IS NOT NULL AND closed_at < ?)", closedBefore.UTC()).
		Updates(map[string]any{"data": nil, "purged_at": s.now()})
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge attachments: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// CannedResponse is a reply text supervisors keep for agents to insert.
// Its body may hold {{name}}, {{mcid}} and {{reference}}, filled in for the
// case at hand (certdesk.FillCanned).
type CannedResponse struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Body      string         `json:"body"`
	UpdatedBy certdesk.Actor `json:"updated_by"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// CannedResponses lists them by name.
func (s *Store) CannedResponses(ctx context.Context) ([]CannedResponse, error) {
	var out []CannedResponse
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", translate(err))
	}
	return out, nil
}

// SaveCannedResponse creates one (empty ID) or replaces its name and body;
// a name another one has is ECONFLICT.
func (s *Store) SaveCannedResponse(ctx context.Context, c *CannedResponse) error {
	now := s.now()
	c.UpdatedAt = now
	db := s.db.WithContext(ctx)
	var err error
	if c.ID == "" {
		c.ID, c.CreatedAt = certdesk.NewID(), now
		err = db.Create(c).Error
	} else {
		res := db.Model(&CannedResponse{}).Where("id = ?", c.ID).Updates(map[string]any{"name": c.Name, "body": c.Body, "updated_by": c.UpdatedBy, "updated_at": now})
		if err = res.Error; err == nil && res.RowsAffected == 0 {
			err = certdesk.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("store: save canned response %q: %w", c.Name, translate(err))
	}
	return nil
}

// DeleteCannedResponse removes one.
func (s *Store) DeleteCannedResponse(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&CannedResponse{})
	if res.Error != nil {
		return fmt.Errorf("store: delete canned response: %w", translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete canned response %q: %w", id, certdesk.ErrNotFound)
	}
	return nil
}

// OpenReplyLink finds the live link of a case that asks its recipient for
// an answer (a recovery's question): its hash, to use it as the link's form
// would with the answer that came by email or from the portal.
func (s *Store) OpenReplyLink(ctx context.Context, caseID, recipient, purpose string) (string, bool, error) {
	var rows []LinkToken
	err := s.db.WithContext(ctx).Where("case_id = ? AND recipient = ? AND purpose = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?",
		caseID, certdesk.NormalizeEmail(recipient), purpose, s.now()).Order("created_at DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return "", false, fmt.Errorf("store: open reply link of %q: %w", caseID, translate(err))
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0].Hash, true, nil
}

// CaseRecipients lists every address the case's emails went to: who may
// write to the case.
func (s *Store) CaseRecipients(ctx context.Context, caseID string) ([]string, error) {
	var out []string
	if err := s.db.WithContext(ctx).Model(&Email{}).Where("case_id = ?", caseID).Distinct().Pluck("to_addr", &out).Error; err != nil {
		return nil, fmt.Errorf("store: recipients of %q: %w", caseID, translate(err))
	}
	return out, nil
}
