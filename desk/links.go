package desk

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// linkWait bounds how long a link's page waits for the workflow's answer.
const linkWait = 5 * time.Second

// linkOutcome asks the case's workflow where a link it was sent led
// (UpdateLinkOutcome): the case once the workflow took the link and
// recorded the first status it set after it.
func (s *Desk) LinkOutcome(ctx context.Context, cs certdesk.Case, tokenID string) (certdesk.Case, error) {
	var after certdesk.Case
	ctx, cancel := context.WithTimeout(ctx, linkWait)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: cs.WorkflowID, RunID: cs.RunID, UpdateName: workflows.UpdateLinkOutcome, Args: []any{tokenID},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &after)
	}
	if err == nil && after.Version == 0 {
		err = errors.New("the workflow answered no case")
	}
	return after, err
}

// signalLink tells the case's workflow (the very run of this case) that a
// link was used. A run that has ended is EGONE; Temporal unreachable is
// EUNAVAILABLE.
func (s *Desk) signalLink(ctx context.Context, cs certdesk.Case, sig workflows.LinkUsed) error {
	if s.temporal == nil {
		return certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured")
	}
	ctx, err := s.about(ctx, cs.LearnerEmail)
	if err != nil {
		return err
	}
	err = s.temporal.SignalWorkflow(ctx, cs.WorkflowID, cs.RunID, workflows.SignalLink, sig)
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return certdesk.Errorf(certdesk.EGONE, "the case has ended")
	}
	return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not reach the case's workflow", Err: err}
}

// UseLink uses an email link's token and signals its case's workflow in one
// step: the token stays unused if the signal fails. It returns the token
// (also when it cannot be used: its state says why) and the case as it was.
// A reply link needs its answer.
func (s *Desk) UseLink(ctx context.Context, hash, reply string) (store.LinkToken, certdesk.Case, error) {
	reply = strings.TrimSpace(reply)
	var before certdesk.Case
	t, err := s.store.ConsumeLinkToken(ctx, hash, func(t store.LinkToken) error {
		if t.Purpose == workflows.PurposeReply && (reply == "" || len(reply) > certdesk.MaxNote) {
			return certdesk.Invalid(map[string]string{"reply": "write your answer (at most 4000 characters)"})
		}
		cs, err := s.store.Case(ctx, t.CaseID)
		if err != nil {
			return err
		}
		before = cs
		return s.signalLink(ctx, cs, workflows.LinkUsed{TokenID: t.ID, Step: t.Step, Purpose: t.Purpose, Recipient: t.Recipient, Reply: reply})
	})
	return t, before, err
}
