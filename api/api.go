// Package api is certdesk's JSON API under /api/v1 (described by
// openapi.json), SendGrid's event webhook and the codec server of the
// Temporal Web UI. Handlers parse, call the desk once and answer; errors in
// the contract's shape (respond.Fail).
package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// API serves the JSON API.
type API struct {
	cfg     config.Config
	store   *store.Store
	desk    *desk.Desk
	auth    *auth.Auth
	codec   *codec.Codec
	webhook *mail.WebhookVerifier
	inbound *inbound.Verifier
	dev     bool
}

// Deps are what the API needs; Codec and Webhook are optional (their
// routes answer 404 without them); without Inbound, inbound posts are
// refused but in dev mode, where they may come unsigned.
type Deps struct {
	Config  config.Config
	Store   *store.Store
	Desk    *desk.Desk
	Auth    *auth.Auth
	Codec   *codec.Codec
	Webhook *mail.WebhookVerifier
	Inbound *inbound.Verifier
}

// New makes the API.
func New(d Deps) *API {
	return &API{cfg: d.Config, store: d.Store, desk: d.Desk, auth: d.Auth, codec: d.Codec, webhook: d.Webhook, inbound: d.Inbound,
		dev: d.Config.Mode == config.ModeDev}
}

// The limits of the API's public, abusable endpoints, per client address.
var webhookPerClient = limit.Limit{Name: "webhook-client", Max: 600, Window: time.Minute}

// Routes registers the API's routes: every /api/v1 route on one screen.
func (s *API) Routes(r *gin.Engine) {
	staff := []certdesk.Role{certdesk.RoleAgent, certdesk.RoleSupervisor}
	require, scope := s.auth.Require, s.auth.RequireScope
	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", s.openapi)
	v1.GET("/me", require(), s.me)
	v1.GET("/me/personal-data", require(certdesk.RoleLearner), s.personalData)
	v1.GET("/personal-data", require(certdesk.RoleSupervisor), s.personalData)
	v1.POST("/learning-profiles/:id/accounts", require(certdesk.RoleLearner), s.addAccount)
	v1.GET("/cases", require(), s.listCases)
	v1.GET("/cases/:id", require(), s.getCase)
	v1.GET("/cases/:id/events", require(), s.caseEvents)
	v1.POST("/cases/:id/claim", require(staff...), s.claim)
	v1.POST("/cases/:id/decision", require(staff...), s.decide)
	v1.POST("/cases/:id/notes", require(staff...), s.addNote)
	v1.POST("/cases/:id/security-review", require(certdesk.RoleSupervisor), s.reviewCase)
	v1.POST("/cases/:id/undo", require(certdesk.RoleSupervisor), s.undo)
	v1.POST("/cases/:id/convert", require(staff...), s.convert)
	v1.POST("/inquiries", require(certdesk.RoleLearner), s.askQuestion)
	v1.GET("/cases/:id/messages", require(), s.messages)
	v1.POST("/cases/:id/messages", require(certdesk.RoleLearner), s.writeMessage)
	v1.POST("/cases/:id/replies", require(staff...), s.reply)
	v1.GET("/attachments/:id", require(staff...), s.attachment)
	v1.GET("/canned-responses", require(staff...), s.cannedResponses)
	v1.POST("/canned-responses", require(certdesk.RoleSupervisor), s.saveCanned)
	v1.PUT("/canned-responses/:id", require(certdesk.RoleSupervisor), s.saveCanned)
	v1.DELETE("/canned-responses/:id", require(certdesk.RoleSupervisor), s.deleteCanned)
	v1.POST("/connect-requests", require(certdesk.RoleLearner), s.requestConnect)
	v1.POST("/merge-requests", require(), s.requestMerge)
	v1.POST("/recovery-requests", s.auth.PerClient(desk.RecoveryPerClient), s.requestRecovery)
	v1.POST("/sign-in-events", require(staff...), s.recordSignIn)
	s.statsRoutes(v1)
	// The integration API (auth.IntegrationPath): integration tokens only, each route within a scope.
	v1.PUT("/integration/certification-profiles/:mcid", scope(certdesk.ScopeProfilesWrite), s.putProfile)
	v1.PUT("/integration/accounts/:email", scope(certdesk.ScopeAccountsWrite), s.putAccount)
	v1.POST("/integration/sign-in-events", scope(certdesk.ScopeSignInsWrite), s.recordSignIns)
	if s.dev {
		v1.GET("/dev/mail", s.devMail)
		v1.GET("/dev/webhooks", s.devWebhooks)
		r.POST(desk.DevReceiverPath, s.devReceive)
	}

	r.POST("/webhooks/sendgrid", s.auth.PerClient(webhookPerClient), s.sendgridWebhook)
	r.POST(inbound.WebhookPath, s.auth.PerClient(webhookPerClient), s.sendgridInbound)
	r.POST("/codec/encode", s.codecHandler())
	r.POST("/codec/decode", s.codecHandler())
	r.OPTIONS("/codec/:op", s.codecPreflight)
}
