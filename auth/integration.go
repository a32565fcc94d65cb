package auth

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/respond"
)

// Integration tokens ("cdi_…", bearer only) are the credentials of the
// systems of record. An integration is never a person: its token opens the
// integration API and nothing else (anywhere else it is 403, never
// anonymous), it passes no Require, only RequireScope, and it is never
// taken from a cookie (so it needs no CSRF token).

const (
	// integrationPrefix starts every integration token.
	integrationPrefix = "cdi_"
	// IntegrationPath is where the integration API lives: the only routes
	// an integration token may call.
	IntegrationPath = "/api/v1/integration/"
)

// IntegrationToken is how a new integration token is shown (once): the
// prefix and the random part certdesk.NewToken returned.
func IntegrationToken(raw string) string { return integrationPrefix + raw }

var (
	errBadIntegration = certdesk.Errorf(certdesk.EUNAUTHENTICATED, "the integration token is not valid, has expired or was revoked")
	errIntegrationAPI = certdesk.Errorf(certdesk.EFORBIDDEN, "an integration token may call only the integration API ("+IntegrationPath+"…)")
)

// integrationPrincipal loads the integration behind a token.
func (s *Auth) integrationPrincipal(ctx context.Context, raw string) (*signedIn, error) {
	hash, ok := certdesk.HashToken(raw)
	if !ok {
		return nil, errBadIntegration
	}
	t, err := s.store.LiveIntegrationToken(ctx, hash)
	if err != nil {
		if certdesk.ErrorCode(err) == certdesk.ENOTFOUND {
			return nil, errBadIntegration
		}
		return nil, err
	}
	return &signedIn{Principal: &certdesk.Principal{Role: certdesk.RoleIntegration, IntegrationID: t.ID, Name: t.Name,
		Scopes: t.Scopes}}, nil
}

// confineIntegration says why an integration may not make this request: a
// token sent as the cookie, or a route outside the integration API.
func confineIntegration(c *gin.Context, viaCookie bool) error {
	switch {
	case viaCookie:
		return errBadIntegration
	case !strings.HasPrefix(c.FullPath(), IntegrationPath):
		return errIntegrationAPI
	}
	return nil
}

// RequireScope lets through integration tokens with the scope: anonymous
// callers get 401; people (learners, agents, supervisors) and integrations
// without the scope get 403.
func (s *Auth) RequireScope(scope certdesk.Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := sessionOf(c)
		switch {
		case p.Principal == nil:
			respond.Fail(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "send an integration token (Authorization: Bearer %s…)", integrationPrefix))
		case p.Role != certdesk.RoleIntegration:
			respond.Fail(c, certdesk.Errorf(certdesk.EFORBIDDEN, "this is for integration tokens (certdesk token create --integration)"))
		case !p.HasScope(scope):
			respond.Fail(c, certdesk.Errorf(certdesk.EFORBIDDEN, "the integration token does not have the scope %s", scope))
		default:
			c.Next()
		}
	}
}
