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

// Holder is who a live session belongs to: an agent (Role agent or
// supervisor, AgentID) or a learner's account (AccountID).
type Holder struct {
	SessionID string
	Subject   string
	Role      certdesk.Role
	AgentID   string
	AccountID string
	Email     string
	Name      string
	// Inactive is true for a learner's account that the inactivity sweep
	// made inactive: it may not use certdesk until a recovery completes.
	Inactive bool
}

// SessionHolder finds a live session and who holds it in one query: it runs
// on every signed-in request. ENOTFOUND when the session is revoked,
// expired or unknown, or its holder is gone.
func (s *Store) SessionHolder(ctx context.Context, id string) (Holder, error) {
	var row struct {
		Subject                 string
		AgentID, AgentEmail     *string
		AgentName, AgentRole    *string
		AccountID, AccountEmail *string
		AccountName             *string
		AccountStatus           *string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT s.subject,
		ag.id AS agent_id, ag.email AS agent_email, ag.name AS agent_name, ag.role AS agent_role,
		ac.id AS account_id, ac.email AS account_email, ac.display_name AS account_name,
		ac.status AS account_status
		FROM sessions s
		LEFT JOIN agents ag ON s.subject LIKE 'agent:%' AND ag.id = substr(s.subject, 7) AND ag.disabled_at IS NULL
		LEFT JOIN accounts ac ON s.subject LIKE 'account:%' AND ac.id = substr(s.subject, 9)
		WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > ?`, id, s.now()).Take(&row).Error
	if err != nil {
		return Holder{}, fmt.Errorf("store: session: %w", translate(err))
	}
	h := Holder{SessionID: id, Subject: row.Subject}
	switch {
	case row.AgentID != nil:
		h.Role, h.AgentID, h.Email, h.Name = certdesk.Role(*row.AgentRole), *row.AgentID, *row.AgentEmail, *row.AgentName
	case row.AccountID != nil:
		h.Role, h.AccountID, h.Email, h.Name = certdesk.RoleLearner, *row.AccountID, *row.AccountEmail, *row.AccountName
		h.Inactive = row.AccountStatus != nil && *row.AccountStatus == certdesk.AccountInactive
	default:
		return Holder{}, fmt.Errorf("store: session %q: its holder is gone: %w", id, certdesk.Errorf(certdesk.ENOTFOUND, "no such session"))
	}
	return h, nil
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

// CreateAccessToken stores a token (its hash). A token expires, within
// maxTTL from now (the configuration's CERTDESK_TOKEN_MAX_TTL): EINVALID
// otherwise.
func (s *Store) CreateAccessToken(ctx context.Context, t *AccessToken, maxTTL time.Duration) error {
	now := s.now()
	if msg := tokenExpiryProblem(now, t.ExpiresAt, maxTTL); msg != "" {
		return certdesk.Invalid(map[string]string{"expires_at": msg})
	}
	if t.ID == "" {
		t.ID = certdesk.NewID()
	}
	t.CreatedAt = now
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("store: create access token: %w", translate(err))
	}
	return nil
}

// LiveAccessToken finds a token by hash that is neither revoked nor
// expired, and notes its use (at most once a minute).
func (s *Store) LiveAccessToken(ctx context.Context, hash string) (AccessToken, error) {
	var t AccessToken
	if err := s.liveToken(ctx, &t, hash); err != nil {
		return t, fmt.Errorf("store: access token: %w", err)
	}
	return t, nil
}

// RevokeAccessToken revokes a token; ENOTFOUND when there is none live.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	if err := s.revokeToken(ctx, &AccessToken{}, id, "access token"); err != nil {
		return fmt.Errorf("store: revoke access token: %w", err)
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
	err := s.tx(ctx, func(tx *gorm.DB) error { return bindSubject(tx, row, subject, email) })
	if err != nil {
		return fmt.Errorf("store: match sign-in: %w", translate(err))
	}
	return nil
}

// bindSubject finds the row of a signed-in identity (see identityRow) and
// records the subject on a row matched by email.
func bindSubject(tx *gorm.DB, row any, subject, email string) error {
	if err := identityRow(tx, row, subject, email); err != nil {
		return err
	}
	if subject == "" {
		return nil
	}
	return tx.Model(row).Update("oidc_subject", subject).Error
}

// identityRow finds the agent or account a sign-in names: by the provider's
// subject, else by an email not bound to another subject (a row already
// bound to another subject is someone else's).
func identityRow(tx *gorm.DB, row any, subject, email string) error {
	if subject != "" {
		err := tx.Where("oidc_subject = ?", subject).Take(row).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
	}
	if email == "" {
		return gorm.ErrRecordNotFound
	}
	return tx.Where("email = ? AND oidc_subject IS NULL", certdesk.NormalizeEmail(email)).Take(row).Error
}
