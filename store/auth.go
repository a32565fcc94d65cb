package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// Session is a signed-in browser or API client. The token carries its id;
// signing out revokes the row, which ends the session everywhere.
type Session struct {
	ID         string
	Subject    string // "account:<id>" or "agent:<id>"
	Method     string // dev, oidc
	ClientAddr string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// CreateSession records a new session.
func (s *Store) CreateSession(ctx context.Context, ss *Session) error {
	ss.CreatedAt = s.now()
	if err := s.db.WithContext(ctx).Create(ss).Error; err != nil {
		return fmt.Errorf("store: create session: %w", translate(err))
	}
	return nil
}

// LiveSession returns a session that is neither revoked nor expired;
// ENOTFOUND otherwise.
func (s *Store) LiveSession(ctx context.Context, id string) (Session, error) {
	var ss Session
	err := s.db.WithContext(ctx).Where("id = ? AND revoked_at IS NULL AND expires_at > ?", id, s.now()).Take(&ss).Error
	if err != nil {
		return ss, fmt.Errorf("store: session: %w", translate(err))
	}
	return ss, nil
}

// RevokeSession ends a session.
func (s *Store) RevokeSession(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Model(&Session{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now()).Error
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", translate(err))
	}
	return nil
}

// AccessToken is an agent's personal access token, for machines. Only its
// hash is kept.
type AccessToken struct {
	ID         string     `json:"id"`
	AgentID    string     `json:"agent_id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAccessToken stores a token (its hash).
func (s *Store) CreateAccessToken(ctx context.Context, t *AccessToken) error {
	if t.ID == "" {
		t.ID = certdesk.NewID()
	}
	t.CreatedAt = s.now()
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("store: create access token: %w", translate(err))
	}
	return nil
}

// LiveAccessToken finds a token by hash that is neither revoked nor
// expired, and notes its use (at most once a minute).
func (s *Store) LiveAccessToken(ctx context.Context, hash string) (AccessToken, error) {
	var t AccessToken
	now := s.now()
	err := s.db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL AND expires_at > ?", hash, now).Take(&t).Error
	if err != nil {
		return t, fmt.Errorf("store: access token: %w", translate(err))
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		_ = s.db.WithContext(ctx).Model(&AccessToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error
	}
	return t, nil
}

// RevokeAccessToken revokes a token; ENOTFOUND when there is none live.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Model(&AccessToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	if res.Error != nil {
		return fmt.Errorf("store: revoke access token: %w", translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return certdesk.Errorf(certdesk.ENOTFOUND, "no live access token %q", id)
	}
	return nil
}

// AccessTokens lists an agent's tokens (all agents' when agentID is ""),
// newest first.
func (s *Store) AccessTokens(ctx context.Context, agentID string) ([]AccessToken, error) {
	var out []AccessToken
	q := s.db.WithContext(ctx).Order("created_at DESC, id")
	if agentID != "" {
		q = q.Where("agent_id = ?", agentID)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: access tokens: %w", translate(err))
	}
	return out, nil
}

// AuditEntry is one line of the audit log: an agent's action or a sign-in.
type AuditEntry struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	Actor      certdesk.Actor  `json:"actor"`
	Action     string          `json:"action"`
	CaseID     string          `json:"case_id,omitempty"`
	ClientAddr string          `json:"client_addr"`
	Data       json.RawMessage `json:"data"`
}

// TableName is the audit log's table.
func (AuditEntry) TableName() string { return "audit_log" }

// Audit appends to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	e.ID, e.At = certdesk.NewID(), s.now()
	if len(e.Data) == 0 {
		e.Data = json.RawMessage(`{}`)
	}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("store: audit: %w", translate(err))
	}
	return nil
}

// AuditLog lists audit entries, newest first, for an actor or a case (or all).
func (s *Store) AuditLog(ctx context.Context, actor certdesk.Actor, caseID string, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	q := s.db.WithContext(ctx).Order("at DESC, id DESC").Limit(max(1, min(limit, 1000)))
	if actor != "" {
		q = q.Where("actor = ?", actor)
	}
	if caseID != "" {
		q = q.Where("case_id = ?", caseID)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: audit log: %w", translate(err))
	}
	return out, nil
}

// SignInAgent matches a signed-in identity to an agent: by the identity
// provider's subject, else by the (verified) email, recording the subject
// on the first match. ENOTFOUND when the person is not an agent.
func (s *Store) SignInAgent(ctx context.Context, subject, email string) (certdesk.Agent, error) {
	var a certdesk.Agent
	err := s.matchSubject(ctx, &a, subject, email)
	return a, err
}

// SignInAccount matches a signed-in identity to a learner's account, the
// same way.
func (s *Store) SignInAccount(ctx context.Context, subject, email string) (certdesk.Account, error) {
	var a certdesk.Account
	err := s.matchSubject(ctx, &a, subject, email)
	return a, err
}

func (s *Store) matchSubject(ctx context.Context, row any, subject, email string) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if subject != "" {
			err := tx.Where("oidc_subject = ?", subject).Take(row).Error
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		if email == "" {
			return gorm.ErrRecordNotFound
		}
		// A row already bound to another subject is someone else's.
		if err := tx.Where("email = ? AND oidc_subject IS NULL", certdesk.NormalizeEmail(email)).Take(row).Error; err != nil {
			return err
		}
		if subject == "" {
			return nil
		}
		return tx.Model(row).Update("oidc_subject", subject).Error
	})
	if err != nil {
		return fmt.Errorf("store: match sign-in: %w", translate(err))
	}
	return nil
}
