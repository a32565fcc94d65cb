// Package pages is certdesk's server-rendered web: the agents' console, the
// learners' portal, the public recovery form, the pages of email links,
// and in dev mode the captured mailbox. Pages are rendered on the server
// from web's templates; every action is a plain form (it works without
// JavaScript). Handlers parse, call the desk once and render.
package pages

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// Pages serves the web pages.
type Pages struct {
	cfg   config.Config
	store *store.Store
	desk  *desk.Desk
	auth  *auth.Auth
	html  *respond.HTML
	dev   bool
	now   func() time.Time
}

// New makes the pages. now is the clock (nil is time.Now).
func New(cfg config.Config, st *store.Store, d *desk.Desk, a *auth.Auth, html *respond.HTML, now func() time.Time) *Pages {
	if now == nil {
		now = time.Now
	}
	s := &Pages{cfg: cfg, store: st, desk: d, auth: a, html: html, dev: cfg.Mode == config.ModeDev, now: now}
	// Every page in the layout tells staff of the cases assigned to them.
	html.Notices = s.notices
	return s
}

// linkPerClient limits the uses of email links per client address.
var linkPerClient = limit.Limit{Name: "link-client", Max: 30, Window: time.Minute}

// Routes registers the pages: every page on one screen.
func (s *Pages) Routes(r *gin.Engine) {
	staff := []certdesk.Role{certdesk.RoleAgent, certdesk.RoleSupervisor}
	page := s.auth.RequirePage
	r.GET("/", s.home)
	r.GET("/console", page(staff...), s.console)
	r.GET("/console/cases/:id", page(staff...), s.consoleCase)
	r.POST("/console/cases/:id/:action", page(staff...), s.consoleAction)
	r.GET("/console/canned", page(certdesk.RoleSupervisor), s.cannedPage)
	r.POST("/console/canned", page(certdesk.RoleSupervisor), s.saveCanned)
	r.POST("/console/canned/:id", page(certdesk.RoleSupervisor), s.saveCanned)
	r.POST("/console/canned/:id/delete", page(certdesk.RoleSupervisor), s.deleteCanned)
	r.GET("/console/staff", page(certdesk.RoleSupervisor), s.staffPage)
	r.POST("/console/staff/:id/disable", page(certdesk.RoleSupervisor), s.disableStaff)
	r.GET("/console/webhooks", page(certdesk.RoleSupervisor), s.webhooksPage)
	r.GET("/console/webhooks/events/:id", page(certdesk.RoleSupervisor), s.eventPage)
	r.POST("/console/webhooks/events/:id/resend", page(certdesk.RoleSupervisor), s.resendEvent)
	r.GET("/portal", page(), s.portal)
	r.POST("/portal/connect", page(certdesk.RoleLearner), s.portalConnect)
	r.GET("/portal/cases/:id", page(), s.portalCasePage)
	r.POST("/portal/cases/:id/messages", page(certdesk.RoleLearner), s.portalMessage)
	r.POST("/portal/inquiries", page(certdesk.RoleLearner), s.portalAsk)
	// The case's link in its learner's emails: the token is the proof.
	r.GET("/portal/cases/:id/t/:token", s.portalCasePage)
	r.POST("/portal/cases/:id/t/:token/messages", s.auth.PerClient(linkPerClient), s.portalMessage)
	r.GET("/portal/recovery", s.recoveryForm)
	r.POST("/portal/recovery", s.submitRecoveryForm)
	// Each part of the pages registers its own routes beside its handlers.
	s.dashboardRoutes(r, page)
	s.deskRoutes(r, page)
	s.privacyRoutes(r, page)
	s.learnerRoutes(r, page)
	r.GET("/l/:token", s.linkPage)
	r.HEAD("/l/:token", s.linkPage)
	r.POST("/l/:token", s.useLink)
	if s.dev {
		r.POST("/portal/accounts", page(certdesk.RoleLearner), s.portalAddAccount)
		r.GET("/dev/mail", s.devMailPage)
		r.GET("/dev/mail/:id", s.devMailMessage)
		r.GET("/dev/mail/:id/html", s.devMailHTML)
		r.POST("/dev/mail/:id/reply", s.devReply)
		r.GET("/dev/webhooks", s.devWebhooksPage)
	}
}

// home sends people where they work: staff to the console, learners to the
// portal, others to sign in.
func (s *Pages) home(c *gin.Context) {
	p := request.Caller(c)
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

// Dev mode's captured mailbox: every message the worker "sent", rendered,
// with its links clickable. Not registered outside `certdesk dev`.

type devMailView struct {
	Mails    []desk.CapturedMail
	To, Case string
	Open     *desk.CapturedMail
	// Replied is what became of the reply just posted (the inbound outcome).
	Replied string
}

func (s *Pages) devMailPage(c *gin.Context) {
	ms, err := s.desk.Mailbox(c.Request.Context(), c.Query("to"), c.Query("case"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "dev_mail", "Mailbox (dev)", devMailView{Mails: ms, To: c.Query("to"), Case: c.Query("case")})
}

func (s *Pages) devMailMessage(c *gin.Context) {
	m, err := s.desk.MailboxMessage(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "dev_mail", m.Subject, devMailView{Open: &m, Replied: c.Query("replied")})
}

// devMailHTML shows a message's HTML part as its own document: emails use
// inline styles, so this page alone allows them (and still no script).
func (s *Pages) devMailHTML(c *gin.Context) {
	m, err := s.desk.MailboxMessage(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(m.HTML))
}

// devWebhookRow is one event on /dev/webhooks.
type devWebhookRow struct {
	desk.DevWebhookEvent
	Data     string
	Received *store.WebhookReceipt
}

// devWebhooksPage shows every domain event, what the built-in receiver got
// (headers, whether the signature verified) and each attempt.
func (s *Pages) devWebhooksPage(c *gin.Context) {
	evs, err := s.desk.DevWebhooks(c.Request.Context())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	rows := make([]devWebhookRow, len(evs))
	for i, e := range evs {
		var b bytes.Buffer
		if json.Indent(&b, e.Event.Data, "", "  ") != nil {
			b.Write(e.Event.Data)
		}
		rows[i] = devWebhookRow{DevWebhookEvent: e, Data: b.String()}
		if n := len(e.Receipts); n > 0 {
			rows[i].Received = &e.Receipts[n-1]
		}
	}
	s.html.Render(c, http.StatusOK, "dev_webhooks", "Webhooks (dev)", rows)
}
