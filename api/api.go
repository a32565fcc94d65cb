// Package api is certdesk's HTTP surface: the JSON API under /api/v1, the
// link pages under /l/, webhooks, the web pages and, in dev mode, the dev
// sign-in and mailbox. Handlers parse, call one thing and answer; errors go
// through one mapper (errors.go).
package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/web"
)

// Deps are what the HTTP server needs.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Temporal client.Client
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

// Server serves certdesk's HTTP surface.
type Server struct {
	cfg           config.Config
	store         *store.Store
	temporal      client.Client
	signer        *signer
	pages         *web.Pages
	metrics       *metrics
	webhook       *mail.WebhookVerifier
	oidc          oidcClient
	codec         *codec.Codec
	dev           bool
	secureCookies bool
	now           func() time.Time
	handler       http.Handler
	engine        *gin.Engine
}

// New builds the server and its routes. The configuration must have been
// validated (an invalid webhook key is refused there).
func New(d Deps) *Server {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		cfg:           d.Config,
		store:         d.Store,
		temporal:      d.Temporal,
		signer:        newSigner(d.Config.Secret, now),
		pages:         web.MustParse(),
		metrics:       newMetrics(),
		dev:           d.Config.Mode == config.ModeDev,
		secureCookies: strings.HasPrefix(d.Config.PublicURL, "https://"),
		now:           now,
	}
	if d.Config.PayloadKeys != "" {
		s.codec, _ = d.Config.Codec() // validated by config
	}
	if key := d.Config.Mail.SendGridWebhookKey; key != "" {
		s.webhook, _ = mail.NewWebhookVerifier(key) // validated by config
		if s.webhook != nil {
			s.webhook.Now = now
		}
	}
	s.handler = s.routes()
	return s
}

// Routes lists the registered routes (method and path), for the tests
// that hold the OpenAPI document to them.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes lists every route, so the whole surface reads on one screen.
func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The client address (rate limits, audit) comes from X-Forwarded-For
	// only behind proxies the operator names.
	_ = r.SetTrustedProxies(s.cfg.TrustedProxies)
	r.RedirectTrailingSlash = false
	r.Use(withRequestID, recoverPanics, s.metrics.observe, logRequests, s.securityHeaders, limitBody, s.checkInput, s.identify)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	staff := []certdesk.Role{certdesk.RoleAgent, certdesk.RoleSupervisor}
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	r.StaticFS("/static", web.Static())
	r.GET("/", s.home)
	r.GET("/console", s.requirePage(staff...), s.console)
	r.GET("/console/cases/:id", s.requirePage(staff...), s.consoleCase)
	r.POST("/console/cases/:id/:action", s.requirePage(staff...), s.consoleAction)
	r.GET("/portal", s.requirePage(), s.portal)
	r.POST("/portal/connect", s.requirePage(certdesk.RoleLearner), s.portalConnect)
	r.GET("/portal/recovery", s.recoveryForm)
	r.POST("/portal/recovery", s.submitRecoveryForm)

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", s.openapi)
	v1.GET("/me", s.require(), s.me)
	v1.POST("/learning-profiles/:id/accounts", s.require(certdesk.RoleLearner), s.addAccount)
	v1.GET("/cases", s.require(), s.listCases)
	v1.GET("/cases/:id", s.require(), s.getCase)
	v1.GET("/cases/:id/events", s.require(), s.caseEvents)
	v1.POST("/cases/:id/claim", s.require(staff...), s.claim)
	v1.POST("/cases/:id/decision", s.require(staff...), s.decide)
	v1.POST("/cases/:id/notes", s.require(staff...), s.addNote)
	v1.POST("/cases/:id/security-review", s.require(certdesk.RoleSupervisor), s.reviewCase)
	v1.POST("/connect-requests", s.require(certdesk.RoleLearner), s.requestConnect)
	v1.POST("/merge-requests", s.require(), s.requestMerge)
	v1.POST("/recovery-requests", s.requestRecovery)
	v1.POST("/sign-in-events", s.require(staff...), s.recordSignIn)

	r.GET("/l/:token", s.linkPage)
	r.HEAD("/l/:token", s.linkPage)
	r.POST("/l/:token", s.useLink)
	r.POST("/webhooks/sendgrid", s.limitClient(webhookPerClient), s.sendgridWebhook)
	r.POST("/codec/encode", s.codecHandler())
	r.POST("/codec/decode", s.codecHandler())
	r.OPTIONS("/codec/:op", s.codecPreflight)

	if s.dev {
		r.GET("/dev/login", s.devLoginPage)
		r.POST("/dev/login", s.limitClient(signInPerClient), s.devLogin)
		r.POST("/portal/accounts", s.requirePage(certdesk.RoleLearner), s.portalAddAccount)
		r.GET("/dev/mail", s.devMailPage)
		r.GET("/dev/mail/:id", s.devMailMessage)
		r.GET("/dev/mail/:id/html", s.devMailHTML)
		v1.GET("/dev/mail", s.devMailJSON)
	}
	r.GET("/auth/login", s.limitClient(signInPerClient), s.signInPage)
	r.GET("/auth/callback", s.limitClient(signInPerClient), s.signInCallback)
	r.POST("/logout", s.logout)
	s.engine = r
	return r
}

// home sends people where they work: staff to the console, learners to the
// portal, others to sign in.
func (s *Server) home(c *gin.Context) {
	p := caller(c)
	switch {
	case p == nil && s.dev:
		c.Redirect(http.StatusSeeOther, "/dev/login")
	case p == nil && s.cfg.OIDC.Enabled():
		c.Redirect(http.StatusSeeOther, "/auth/login")
	case p == nil:
		c.Redirect(http.StatusSeeOther, "/portal/recovery")
	case p.Role.Staff():
		c.Redirect(http.StatusSeeOther, "/console")
	default:
		c.Redirect(http.StatusSeeOther, "/portal")
	}
}
