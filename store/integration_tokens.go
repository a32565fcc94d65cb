package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/certdesk/certdesk"
)

// IntegrationToken is the credential of a system of record (the
// certification system, the learning site) for the integration API: a
// name, what it may write, and only the hash of the token. It is never an
// agent, so it has a table of its own.
type IntegrationToken struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Scopes     []certdesk.Scope `json:"scopes" gorm:"serializer:json"`
	Hash       string           `json:"-"`
	CreatedAt  time.Time        `json:"created_at"`
	ExpiresAt  time.Time        `json:"expires_at"`
	LastUsedAt *time.Time       `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time       `json:"revoked_at,omitempty"`
}

// MaxIntegrationName bounds an integration's name.
const MaxIntegrationName = 100

// CreateIntegrationToken stores a token (its hash): a name, at least one
// known scope, and an expiry within maxTTL from now (the configuration's
// CERTDESK_TOKEN_MAX_TTL, as for personal access tokens); EINVALID
// otherwise.
func (s *Store) CreateIntegrationToken(ctx context.Context, t *IntegrationToken, maxTTL time.Duration) error {
	now := s.now()
	fields := map[string]string{}
	switch {
	case t.Name == "":
		fields["name"] = "name the integration (what system uses the token)"
	case len(t.Name) > MaxIntegrationName:
		fields["name"] = fmt.Sprintf("is longer than %d bytes", MaxIntegrationName)
	}
	if len(t.Scopes) == 0 {
		fields["scopes"] = "name at least one scope"
	}
	for _, sc := range t.Scopes {
		if !slices.Contains(certdesk.Scopes, sc) {
			fields["scopes"] = fmt.Sprintf("%q is not a scope", sc)
		}
	}
	if msg := tokenExpiryProblem(now, t.ExpiresAt, maxTTL); msg != "" {
		fields["expires_at"] = msg
	}
	if len(fields) > 0 {
		return certdesk.Invalid(fields)
	}
	if t.ID == "" {
		t.ID = certdesk.NewID()
	}
	t.CreatedAt = now
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("store: create integration token: %w", translate(err))
	}
	return nil
}

// LiveIntegrationToken finds a token by hash that is neither revoked nor
// expired, and notes its use (at most once a minute). ENOTFOUND otherwise.
func (s *Store) LiveIntegrationToken(ctx context.Context, hash string) (IntegrationToken, error) {
	var t IntegrationToken
	if err := s.liveToken(ctx, &t, hash); err != nil {
		return t, fmt.Errorf("store: integration token: %w", err)
	}
	return t, nil
}

// IntegrationTokens lists every integration token, newest first.
func (s *Store) IntegrationTokens(ctx context.Context) ([]IntegrationToken, error) {
	var out []IntegrationToken
	if err := s.db.WithContext(ctx).Order("created_at DESC, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: integration tokens: %w", translate(err))
	}
	return out, nil
}

// RevokeIntegrationToken revokes a token at once; ENOTFOUND when there is
// none live with this id.
func (s *Store) RevokeIntegrationToken(ctx context.Context, id string) error {
	if err := s.revokeToken(ctx, &IntegrationToken{}, id, "integration token"); err != nil {
		return fmt.Errorf("store: revoke integration token: %w", err)
	}
	return nil
}

// What both kinds of token (personal access tokens, integration tokens)
// share: a token must expire, within the maximum lifetime; it is found by
// its hash while live, its use noted at most once a minute; revoking it
// ends it at once.

// tokenRow is the row of a token of either kind.
type tokenRow interface {
	usage() (id string, lastUsed *time.Time)
}

func (t *AccessToken) usage() (string, *time.Time)      { return t.ID, t.LastUsedAt }
func (t *IntegrationToken) usage() (string, *time.Time) { return t.ID, t.LastUsedAt }

// tokenExpiryProblem says what is wrong with a token's expiry ("" when
// nothing): a token must expire, within maxTTL from now.
func tokenExpiryProblem(now, expiresAt time.Time, maxTTL time.Duration) string {
	switch {
	case expiresAt.IsZero():
		return "a token must expire"
	case maxTTL <= 0 || expiresAt.After(now.Add(maxTTL)):
		return fmt.Sprintf("is further than a token may live (%s from now)", maxTTL)
	}
	return ""
}

// liveToken reads the live token with this hash into row (ENOTFOUND when
// none is), noting its use.
func (s *Store) liveToken(ctx context.Context, row tokenRow, hash string) error {
	now := s.now()
	db := s.db.WithContext(ctx)
	if err := db.Where("hash = ? AND revoked_at IS NULL AND expires_at > ?", hash, now).Take(row).Error; err != nil {
		return translate(err)
	}
	if id, last := row.usage(); last == nil || now.Sub(*last) > time.Minute {
		_ = db.Model(row).Where("id = ?", id).UpdateColumn("last_used_at", now).Error
	}
	return nil
}

// revokeToken revokes the live token of row's kind with this id;
// ENOTFOUND when there is none.
func (s *Store) revokeToken(ctx context.Context, row tokenRow, id, what string) error {
	res := s.db.WithContext(ctx).Model(row).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
	switch {
	case res.Error != nil:
		return translate(res.Error)
	case res.RowsAffected == 0:
		return certdesk.Errorf(certdesk.ENOTFOUND, "no live %s %q", what, id)
	}
	return nil
}
