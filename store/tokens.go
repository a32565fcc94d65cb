package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// LinkToken is a link sent by email. Only the hash of the token is kept; the
// token is bound to a case, a step and a recipient, expires, and is used at
// most once. Issuing a new link for a step supersedes the old one.
type LinkToken struct {
	ID           string
	Hash         string
	CaseID       string
	Step         string
	Purpose      string
	Recipient    string
	ExpiresAt    time.Time
	UsedAt       *time.Time
	SupersededAt *time.Time
	CreatedAt    time.Time
}

// Link token states.
const (
	TokenLive       = "live"
	TokenUsed       = "used"
	TokenExpired    = "expired"
	TokenSuperseded = "superseded"
)

// State says whether a token can still be used, and if not why.
func (t LinkToken) State(now time.Time) string {
	switch {
	case t.UsedAt != nil:
		return TokenUsed
	case t.SupersededAt != nil:
		return TokenSuperseded
	case !now.Before(t.ExpiresAt):
		return TokenExpired
	}
	return TokenLive
}

// IssueLinkToken stores a new token for a case step, superseding the live
// one of that step, in one transaction.
func (s *Store) IssueLinkToken(ctx context.Context, t *LinkToken) error {
	now := s.now()
	if t.ID == "" {
		t.ID = certdesk.NewID()
	}
	t.Recipient = certdesk.NormalizeEmail(t.Recipient)
	t.CreatedAt = now
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&LinkToken{}).
			Where("case_id = ? AND step = ? AND used_at IS NULL AND superseded_at IS NULL", t.CaseID, t.Step).
			Update("superseded_at", now).Error
		if err != nil {
			return err
		}
		return tx.Create(t).Error
	})
	if err != nil {
		return fmt.Errorf("store: issue link for %s/%s: %w", t.CaseID, t.Step, err)
	}
	return nil
}

// LinkTokenByHash finds a token; ENOTFOUND when no token has this hash.
func (s *Store) LinkTokenByHash(ctx context.Context, hash string) (LinkToken, error) {
	var t LinkToken
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&t).Error; err != nil {
		return t, fmt.Errorf("store: link token: %w", translate(err))
	}
	return t, nil
}

// ConsumeLinkToken marks a live token used and runs fn in the same
// transaction: if fn fails (the workflow could not be signalled), the token
// stays unused. Of many concurrent calls on one token exactly one wins; the
// others get EGONE. An unknown token is ENOTFOUND.
func (s *Store) ConsumeLinkToken(ctx context.Context, hash string, fn func(LinkToken) error) (LinkToken, error) {
	var t LinkToken
	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		res := tx.Model(&LinkToken{}).
			Where("hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?", hash, now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("hash = ?", hash).Take(&t).Error; err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return certdesk.Errorf(certdesk.EGONE, "this link is %s", t.State(now))
		}
		if err := fn(t); err != nil {
			t.UsedAt = nil // rolled back: the token is as it was
			return err
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, certdesk.ErrNotFound) {
			return t, certdesk.Errorf(certdesk.ENOTFOUND, "this link is not known")
		}
		return t, fmt.Errorf("store: use link: %w", err)
	}
	return t, nil
}

// LiveLinkTokens lists the live tokens of a case (for tests and support).
func (s *Store) LiveLinkTokens(ctx context.Context, caseID string) ([]LinkToken, error) {
	var out []LinkToken
	err := s.db.WithContext(ctx).Where("case_id = ? AND used_at IS NULL AND superseded_at IS NULL", caseID).
		Order("created_at").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: live links of %q: %w", caseID, translate(err))
	}
	return out, nil
}
