package api

import (
	"bytes"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// sendgridWebhook takes SendGrid's signed event webhook. The signature is
// checked over the raw body before anything is read or recorded; events
// are deduplicated (SendGrid retries deliveries for a day); a bounce or drop
// marks the case unreachable and tells its workflow; a delivery is recorded
// on the email.
func (s *API) sendgridWebhook(c *gin.Context) {
	if s.webhook == nil {
		respond.Fail(c, certdesk.Errorf(certdesk.ENOTFOUND, "the SendGrid event webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)"))
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(c.Request.Body); err != nil {
		respond.Fail(c, request.JSONError(err))
		return
	}
	err := s.webhook.Verify(body.Bytes(), c.GetHeader(mail.SignatureHeader), c.GetHeader(mail.TimestampHeader))
	if err != nil {
		// Which check failed goes to the log only: telling the caller would
		// guide a forger.
		slog.WarnContext(c.Request.Context(), "sendgrid webhook refused", "reason", err, "request_id", request.ID(c), "client", c.ClientIP())
		respond.Fail(c, errWebhookRefused)
		return
	}
	if err := request.CheckJSONText(body.Bytes()); err != nil {
		respond.Fail(c, err)
		return
	}
	events, err := mail.ParseEvents(body.Bytes())
	if err != nil {
		respond.Fail(c, certdesk.Errorf(certdesk.EINVALID, "the events are not a JSON array of SendGrid events"))
		return
	}
	ctx := c.Request.Context()
	fresh := 0
	for _, ev := range events {
		isNew, err := s.store.RecordWebhookEvent(ctx, ev.ID, ev.Type)
		if err != nil {
			respond.Fail(c, err) // SendGrid retries the batch; recorded events are skipped then
			return
		}
		if !isNew {
			continue
		}
		fresh++
		if err := s.desk.ApplyMailEvent(ctx, ev); err != nil {
			respond.Fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"received": len(events), "new": fresh})
}

var errWebhookRefused = certdesk.Errorf(certdesk.EFORBIDDEN, "webhook refused")
