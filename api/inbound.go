package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// sendgridInbound takes an email SendGrid's Inbound Parse posts: the
// security policy's signature is checked over the raw body before it is
// parsed (outside dev mode a post without one is refused), then the desk
// decides what the message is. Every message the desk handles, recorded
// or dropped, is answered 200: SendGrid retries anything else for three
// days, and a retry of a recorded message is a duplicate.
func (s *API) sendgridInbound(c *gin.Context) {
	if s.cfg.Inbound.Domain == "" {
		respond.Fail(c, certdesk.Errorf(certdesk.ENOTFOUND, "replies by email are not configured (CERTDESK_INBOUND_DOMAIN)"))
		return
	}
	ctx := c.Request.Context()
	body, err := inbound.ReadBody(c.Request)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.Is(err, inbound.ErrTooLarge) || errors.As(err, &tooLarge) {
			respond.Fail(c, certdesk.Errorf(certdesk.ETOOLARGE, "the post is larger than %d MB", inbound.MaxPostSize>>20))
			return
		}
		respond.Fail(c, certdesk.Errorf(certdesk.EINVALID, "the post could not be read"))
		return
	}
	switch {
	case s.inbound != nil:
		if err := s.inbound.Verify(c.Request.Header, body); err != nil {
			slog.WarnContext(ctx, "sendgrid inbound refused", "reason", err, "request_id", request.ID(c), "client", c.ClientIP())
			respond.Fail(c, errWebhookRefused)
			return
		}
	case !s.dev:
		slog.WarnContext(ctx, "sendgrid inbound refused", "reason", "no SENDGRID_INBOUND_PUBLIC_KEY: unsigned posts are refused outside dev mode",
			"request_id", request.ID(c), "client", c.ClientIP())
		respond.Fail(c, errWebhookRefused)
		return
	}
	m, err := inbound.Parse(c.GetHeader("Content-Type"), body)
	if err != nil {
		slog.WarnContext(ctx, "sendgrid inbound unreadable", "err", err, "request_id", request.ID(c))
		if errors.Is(err, inbound.ErrTooLarge) {
			respond.Fail(c, certdesk.Errorf(certdesk.ETOOLARGE, "the post is larger than %d MB", inbound.MaxPostSize>>20))
			return
		}
		respond.Fail(c, certdesk.Errorf(certdesk.EINVALID, "not an Inbound Parse post (multipart/form-data with from, to and text or email)"))
		return
	}
	res, err := s.desk.ReceiveInbound(ctx, m)
	if err != nil {
		respond.Fail(c, err) // a 5xx: SendGrid posts it again
		return
	}
	slog.InfoContext(ctx, "sendgrid inbound", "outcome", res.Outcome, "case_id", res.CaseID, "reason", res.Reason,
		"message_id", m.MessageID, "request_id", request.ID(c))
	c.JSON(http.StatusOK, res)
}
