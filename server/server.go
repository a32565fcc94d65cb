// Package server mounts certdesk's HTTP surface: the JSON API (package
// api), the web pages (pages) and the sign-in (auth), each with its own
// routes, behind the middleware every request goes through (request ids,
// logs, metrics, security headers, the body limit, the input check, who
// is calling), with health and metrics beside them.
package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/pages"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/web"
)

// Deps are what the HTTP server needs.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Temporal client.Client
	// Codec is Temporal's payload codec (the client's own, so an erasure
	// reaches what it cached); nil builds one from the configuration.
	Codec *codec.Codec
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

// Server serves certdesk's HTTP surface.
type Server struct {
	cfg      config.Config
	store    *store.Store
	temporal client.Client
	html     *respond.HTML
	metrics  *metrics
	dev      bool
	engine   *gin.Engine
}

// New builds the server and mounts every room's routes. The configuration
// must have been validated: the payload codec and SendGrid's webhook key are
// built from it here (without them their routes answer 404).
func New(d Deps) *Server {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	dev := d.Config.Mode == config.ModeDev
	var (
		cd      = d.Codec
		webhook *mail.WebhookVerifier
		in      *inbound.Verifier
	)
	if cd == nil && d.Config.PayloadKeys != "" {
		cd, _ = codec.Parse(d.Config.PayloadKeys) // validated by config
	}
	if cd != nil && d.Store != nil {
		cd.UseKeyStore(d.Store)
	}
	if key := d.Config.Mail.SendGridWebhookKey; key != "" {
		if webhook, _ = mail.NewWebhookVerifier(key); webhook != nil { // validated by config
			webhook.Now = now
		}
	}
	if key := d.Config.Inbound.PublicKey; key != "" {
		if in, _ = inbound.NewVerifier(key); in != nil { // validated by config
			in.Now = now
		}
	}
	html := &respond.HTML{Views: web.MustParse(), Dev: dev}
	limits := &limit.Limiter{Store: d.Store, Secret: d.Config.Secret}
	dk := desk.New(d.Config, d.Store, d.Temporal, cd, limits, now)
	a := auth.New(d.Config, d.Store, dk, limits, html, now)
	var figures telemetry.FiguresSource
	if d.Store != nil {
		figures = d.Store
	}
	s := &Server{cfg: d.Config, store: d.Store, temporal: d.Temporal, html: html, metrics: newMetrics(dev, figures), dev: dev}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The client address (rate limits, audit) comes from X-Forwarded-For
	// only behind proxies the operator names.
	_ = r.SetTrustedProxies(d.Config.TrustedProxies)
	r.RedirectTrailingSlash = false
	r.Use(withRequestID, traceRequests, recoverPanics, s.metrics.observe, logRequests, s.securityHeaders, limitBody, s.checkInput, a.Identify)
	r.NoRoute(notFound)
	r.NoMethod(methodNotAllowed)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	r.StaticFS("/static", web.Static())
	a.Routes(r)
	api.New(api.Deps{Config: d.Config, Store: d.Store, Desk: dk, Auth: a, Codec: cd, Webhook: webhook, Inbound: in}).Routes(r)
	pages.New(d.Config, d.Store, dk, a, html, now).Routes(r)
	s.engine = r
	return s
}

// Routes lists the registered routes (method and path), for the tests
// that hold the OpenAPI document to them.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// notFound and methodNotAllowed answer unmatched requests in the error shape.
func notFound(c *gin.Context) {
	respond.Fail(c, certdesk.Errorf(certdesk.ENOTFOUND, "no such page or endpoint: %s", c.Request.URL.Path))
}

func methodNotAllowed(c *gin.Context) {
	respond.Fail(c, certdesk.Errorf(certdesk.EMETHOD, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
}
