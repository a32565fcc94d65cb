// Package auth is who may come in: sign-in (OpenID Connect, and dev mode's
// demo sign-in), server-side sessions and personal access tokens, the
// CSRF tokens of forms, the roles a route needs, and the policy of who may
// sign in at all. Roles come from the store on every request, so removing
// an agent or signing out takes effect at once.
package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// Auth signs people in and says who is calling.
type Auth struct {
	cfg           config.Config
	store         *store.Store
	desk          *desk.Desk
	limits        *limit.Limiter
	html          *respond.HTML
	signer        *signer
	oidc          oidcClient
	dev           bool
	secureCookies bool
	now           func() time.Time
}

// New makes the sign-in. now is the clock (nil is time.Now).
func New(cfg config.Config, st *store.Store, d *desk.Desk, limits *limit.Limiter, html *respond.HTML, now func() time.Time) *Auth {
	if now == nil {
		now = time.Now
	}
	return &Auth{cfg: cfg, store: st, desk: d, limits: limits, html: html, signer: newSigner(cfg.Secret, now),
		dev: cfg.Mode == config.ModeDev, secureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), now: now}
}

// signInPerClient limits sign-in attempts per client address.
var signInPerClient = limit.Limit{Name: "sign-in-client", Max: 20, Window: time.Minute}

// Routes registers the sign-in's routes.
func (s *Auth) Routes(r gin.IRouter) {
	r.GET("/auth/login", s.PerClient(signInPerClient), s.signInPage)
	r.GET("/auth/callback", s.PerClient(signInPerClient), s.signInCallback)
	r.POST("/logout", s.logout)
	if s.dev {
		r.GET("/dev/login", s.devLoginPage)
		r.POST("/dev/login", s.PerClient(signInPerClient), s.devLogin)
	}
}

// SignInFirst sends an anonymous browser to sign in, and says so.
func (s *Auth) SignInFirst(c *gin.Context) bool {
	if request.Caller(c) != nil {
		return false
	}
	switch {
	case s.dev:
		c.Redirect(http.StatusSeeOther, "/dev/login")
	case s.cfg.OIDC.Enabled():
		c.Redirect(http.StatusSeeOther, "/auth/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	default:
		s.html.Error(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "Sign in to use this. (Sign-in is not configured on this certdesk: CERTDESK_OIDC_ISSUER.)"))
	}
	return true
}

// Limit counts a request of a subject against a limit; over it, it sets
// Retry-After and returns ERATELIMITED (pages render it themselves).
func (s *Auth) Limit(c *gin.Context, lim limit.Limit, subject string) error {
	retry, err := s.limits.Check(c.Request.Context(), lim, subject)
	if retry > 0 {
		c.Header("Retry-After", strconv.Itoa(int(retry.Seconds())))
	}
	return err
}

// PerClient applies a per-client limit to a route (JSON answers).
func (s *Auth) PerClient(lim limit.Limit) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.Limit(c, lim, request.ClientAddr(c)); err != nil {
			respond.Fail(c, err)
			return
		}
		c.Next()
	}
}
