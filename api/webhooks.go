package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// sendgridWebhook takes SendGrid's signed event webhook. The signature is
// checked over the raw body before anything is read or recorded; events
// are deduplicated (SendGrid retries deliveries for a day); a bounce or drop
// marks the case unreachable and tells its workflow; a delivery is recorded
// on the email.
func (s *Server) sendgridWebhook(c *gin.Context) {
	if s.webhook == nil {
		fail(c, certdesk.Errorf(certdesk.ENOTFOUND, "the SendGrid event webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)"))
		return
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(c.Request.Body); err != nil {
		fail(c, jsonError(err))
		return
	}
	err := s.webhook.Verify(body.Bytes(), c.GetHeader(mail.SignatureHeader), c.GetHeader(mail.TimestampHeader))
	if err != nil {
		// Which check failed goes to the log only: telling the caller would
		// guide a forger.
		slog.WarnContext(c.Request.Context(), "sendgrid webhook refused", "reason", err, "request_id", requestID(c), "client", c.ClientIP())
		fail(c, errWebhookRefused)
		return
	}
	if err := checkJSONText(body.Bytes()); err != nil {
		fail(c, err)
		return
	}
	events, err := mail.ParseEvents(body.Bytes())
	if err != nil {
		fail(c, certdesk.Errorf(certdesk.EINVALID, "the events are not a JSON array of SendGrid events"))
		return
	}
	ctx := c.Request.Context()
	fresh := 0
	for _, ev := range events {
		isNew, err := s.store.RecordWebhookEvent(ctx, ev.ID, ev.Type)
		if err != nil {
			fail(c, err) // SendGrid retries the batch; recorded events are skipped then
			return
		}
		if !isNew {
			continue
		}
		fresh++
		if err := s.applyMailEvent(ctx, ev); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"received": len(events), "new": fresh})
}

var errWebhookRefused = certdesk.Errorf(certdesk.EFORBIDDEN, "webhook refused")

func (s *Server) applyMailEvent(ctx context.Context, ev mail.Event) error {
	if ev.CaseID == "" || ev.Step == "" {
		return nil // not one of ours
	}
	switch ev.Type {
	case "delivered":
		_, err := s.store.EmailDelivered(ctx, ev.CaseID, ev.Step, ev.Timestamp)
		return ignoreNotFound(err)
	case "bounce", "dropped":
		e, err := s.store.EmailBounced(ctx, ev.CaseID, ev.Step, ev.Type+": "+ev.Reason)
		if errors.Is(err, certdesk.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		unreachable := true
		cs, _, err := s.store.ChangeCase(ctx, store.Change{CaseID: e.CaseID, Unreachable: &unreachable, Event: store.Event{
			Actor: certdesk.ActorSystem, Type: "email_bounced", Data: map[string]string{"step": e.Step, "kind": e.Kind, "reason": ev.Type + ": " + ev.Reason},
		}})
		if err != nil {
			return ignoreNotFound(err)
		}
		if s.temporal != nil {
			err := s.temporal.SignalWorkflow(ctx, cs.WorkflowID, cs.RunID, workflows.SignalEmailBounced, workflows.EmailBounced{Step: e.Step, Reason: ev.Reason})
			if err != nil {
				// The flag is on the case; a workflow that has ended needs no signal.
				slog.InfoContext(ctx, "bounce signal not delivered", "case", cs.ID, "err", err)
			}
		}
	}
	return nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, certdesk.ErrNotFound) {
		return nil
	}
	return err
}
