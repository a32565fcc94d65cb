package desk

import (
	"context"
	"errors"
	"log/slog"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

func (s *Desk) ApplyMailEvent(ctx context.Context, ev mail.Event) error {
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
			// The provider's reason may quote the address.
			ctx, err := s.about(ctx, cs.LearnerEmail)
			if err == nil {
				err = s.temporal.SignalWorkflow(ctx, cs.WorkflowID, cs.RunID, workflows.SignalEmailBounced, workflows.EmailBounced{Step: e.Step, Reason: ev.Reason})
			}
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
