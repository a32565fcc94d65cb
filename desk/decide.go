package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

type DecisionRequest struct {
	Decision  certdesk.Decision `json:"decision" form:"decision"`
	Note      string            `json:"note" form:"note"`
	ProfileID string            `json:"profile_id" form:"profile_id"`
	// Version, when sent, refuses the decision if the case changed since
	// the agent loaded it.
	Version int64 `json:"version" form:"version"`
	// Reply, when set, is a public reply sent to the learner with the
	// decision (once the decision is taken).
	Reply string `json:"reply" form:"reply"`
}

type ClaimRequest struct {
	// Assignee is the agent to assign (supervisors only); empty: the caller.
	Assignee string `json:"assignee" form:"assignee"`
	// TakeOver lets an agent take a case another agent holds (recorded as
	// taken_over, naming the previous holder).
	TakeOver bool  `json:"take_over" form:"take_over"`
	Version  int64 `json:"version" form:"version"`
}

type NoteRequest struct {
	Note string `json:"note" form:"note"`
}

// auditAction records an agent's action on a case, done or refused.
func (s *Desk) auditAction(ctx context.Context, p *certdesk.Principal, action string, cs certdesk.Case, data map[string]any, err error) {
	if data == nil {
		data = map[string]any{}
	}
	data["outcome"] = "done"
	if err != nil {
		data["outcome"], data["reason"] = "refused", certdesk.ErrorMessage(err)
	}
	s.Audit(ctx, p.Actor(), action, cs.ID, p.ClientAddr, data)
}

// decideCase sends an agent's decision to the case's workflow (an Update)
// and returns the case the workflow answers, with the decision on it.
func (s *Desk) Decide(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req DecisionRequest) (after certdesk.Case, err error) {
	in := workflows.DecisionInput{Decision: req.Decision, Note: req.Note, ProfileID: req.ProfileID, AgentID: p.AgentID, Role: p.Role, ClientAddr: p.ClientAddr}
	var res workflows.DecisionResult
	defer func() {
		if !res.Audited { // a decision the workflow recorded has its audit row already
			s.auditAction(ctx, p, "decide", cs, in.AuditData(), err)
		}
	}()
	switch req.Decision {
	case certdesk.DecisionApprove, certdesk.DecisionReject, certdesk.DecisionRequestInfo, certdesk.DecisionResolve:
	case certdesk.DecisionConvert:
		return cs, certdesk.Invalid(map[string]string{"decision": "turn an inquiry into another case with POST /api/v1/cases/{id}/convert"})
	default:
		return cs, certdesk.Invalid(map[string]string{"decision": "must be approve, reject, request_info or resolve"})
	}
	if err := openAt(cs, req.Version); err != nil {
		return cs, err
	}
	if err := s.holds(ctx, p, cs); err != nil {
		return cs, err
	}
	if req.Reply != "" {
		if _, err := messageText(req.Reply, "reply"); err != nil {
			return cs, err
		}
	}
	if err := s.update(ctx, cs, workflows.UpdateDecide, in, &res); err != nil {
		return cs, err
	}
	if req.Reply != "" {
		if _, err := s.Reply(ctx, p, cs, ReplyRequest{Body: req.Reply}); err != nil {
			slog.ErrorContext(ctx, "the reply sent with a decision failed", "case", cs.ID, "err", err)
		}
	}
	if res.Case.Version > 0 {
		return res.Case, nil // the case with the decision on it, as the workflow recorded it
	}
	// A case started before the update answered with its case: it has
	// taken the decision; the projection follows.
	return s.store.Case(ctx, cs.ID)
}

// claimCase assigns the case to the calling agent. An agent cannot take a
// case another agent holds; a supervisor may assign it to anyone.
func (s *Desk) Claim(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req ClaimRequest) (after certdesk.Case, err error) {
	defer func() {
		s.auditAction(ctx, p, "claim", cs, map[string]any{"assignee": req.Assignee, "take_over": req.TakeOver}, err)
	}()
	if err := openAt(cs, req.Version); err != nil {
		return cs, err
	}
	target := p.AgentID
	if req.Assignee != "" && req.Assignee != p.AgentID {
		if p.Role != certdesk.RoleSupervisor {
			return cs, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor assigns a case to someone else")
		}
		a, aerr := s.store.Agent(ctx, req.Assignee)
		if aerr == nil && !a.Active() {
			aerr = certdesk.ErrNotFound
		}
		if aerr != nil {
			return cs, certdesk.Invalid(map[string]string{"assignee": "is not an active agent"})
		}
		target = a.ID
	}
	taking := cs.AssigneeID != nil && *cs.AssigneeID != p.AgentID && target == p.AgentID
	if taking && p.Role != certdesk.RoleSupervisor && !req.TakeOver {
		return cs, certdesk.Errorf(certdesk.ECONFLICT, "the case is claimed by %s; take it over (recorded on the case) or ask a supervisor to reassign it", s.holderName(ctx, *cs.AssigneeID))
	}
	if cs.AssigneeID != nil && *cs.AssigneeID == target {
		return cs, nil
	}
	typ := certdesk.EventClaimed
	switch {
	case target != p.AgentID:
		typ = certdesk.EventAssigned
	case taking:
		typ = certdesk.EventTakenOver
	}
	after, _, err = s.store.ChangeCase(ctx, store.Change{CaseID: cs.ID, ExpectVersion: cs.Version, Assignee: &target,
		Event: store.Event{Actor: p.Actor(), Type: typ, Data: map[string]any{"assignee": target, "previous": cs.AssigneeID}}})
	if err == nil {
		s.tellAssignee(ctx, after, p.AgentID)
	}
	return after, err
}

// holds refuses a decision on a case another agent claimed: the claim is
// theirs until a supervisor reassigns it or the caller takes it over.
// Supervisors decide any case.
func (s *Desk) holds(ctx context.Context, p *certdesk.Principal, cs certdesk.Case) error {
	if !certdesk.HeldByAnother(cs, p.AgentID, p.Role) {
		return nil
	}
	return certdesk.Errorf(certdesk.ECONFLICT, "the case is claimed by %s: take it over first (it is recorded on the case), or ask them", s.holderName(ctx, *cs.AssigneeID))
}

// holderName names the agent holding a case.
func (s *Desk) holderName(ctx context.Context, agentID string) string {
	if a, err := s.store.Agent(ctx, agentID); err == nil {
		return a.Name
	}
	return "another agent"
}

// noteCase adds an internal note to the case's timeline.
func (s *Desk) Note(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req NoteRequest) (after certdesk.Case, err error) {
	defer func() { s.auditAction(ctx, p, "note", cs, nil, err) }()
	note := strings.TrimSpace(req.Note)
	if note == "" || len(note) > certdesk.MaxNote {
		return cs, certdesk.Invalid(map[string]string{"note": fmt.Sprintf("write the note (at most %d characters)", certdesk.MaxNote)})
	}
	after, _, err = s.store.ChangeCase(ctx, store.Change{CaseID: cs.ID,
		Event: store.Event{Actor: p.Actor(), Type: certdesk.EventNote, Data: map[string]string{"note": note}}})
	return after, err
}

// clearReview ends the security review of a case (a recovery its owner
// stopped), with a supervisor's note on the timeline. The case has ended,
// so this is one of the few changes the API makes to a case itself.
func (s *Desk) ClearReview(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req NoteRequest) (after certdesk.Case, err error) {
	defer func() { s.auditAction(ctx, p, "clear_security_review", cs, nil, err) }()
	if p.Role != certdesk.RoleSupervisor {
		return cs, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor closes a security review")
	}
	if !cs.SecurityReview {
		return cs, certdesk.Errorf(certdesk.ECONFLICT, "this case is not under security review")
	}
	note := strings.TrimSpace(req.Note)
	if note == "" || len(note) > certdesk.MaxNote {
		return cs, certdesk.Invalid(map[string]string{"note": fmt.Sprintf("say what the review found (at most %d characters)", certdesk.MaxNote)})
	}
	off := false
	after, _, err = s.store.ChangeCase(ctx, store.Change{CaseID: cs.ID, SecurityReview: &off,
		Event: store.Event{Actor: p.Actor(), Type: certdesk.EventSecurityReviewCleared, Data: map[string]string{"note": note}}})
	return after, err
}

// openAt refuses a change to a closed case, or to one that changed since the
// caller loaded it (version 0: the caller did not say).
func openAt(cs certdesk.Case, version int64) error {
	if cs.Status.Terminal() {
		return certdesk.Errorf(certdesk.ECONFLICT, "the case is %s; it takes no more changes", cs.Status)
	}
	if version > 0 && version != cs.Version {
		return certdesk.Errorf(certdesk.ECONFLICT, "the case changed since you loaded it (you had version %d, it is at %d): look at it again", version, cs.Version)
	}
	return nil
}

// update runs a Temporal Update on the case's workflow and waits for its
// result. A validator's refusal is ECONFLICT with the workflow's reason.
func (s *Desk) update(ctx context.Context, cs certdesk.Case, name string, arg, result any) error {
	if s.temporal == nil {
		return certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured")
	}
	ctx, err := s.about(ctx, cs.LearnerEmail) // a note may name the learner
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: cs.WorkflowID, RunID: cs.RunID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	var (
		appErr *temporal.ApplicationError
		nf     *serviceerror.NotFound
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return &certdesk.Error{Code: certdesk.ECONFLICT, Message: "the case's workflow has ended; it takes no more decisions", Err: err}
	case errors.As(err, &appErr) && appErr.Type() == workflows.RefusalType:
		// The validator's words, written for the agent.
		return &certdesk.Error{Code: certdesk.ECONFLICT, Message: appErr.Message(), Err: err}
	case errors.As(err, &appErr), strings.Contains(err.Error(), "unknown update"), strings.Contains(err.Error(), "update handler"):
		// The engine's own refusal ("unknown update decide.
		// KnownUpdates=[]" while the case is between steps): its text
		// stays in the log.
		slog.InfoContext(ctx, "update refused by the workflow", "case", cs.ID, "update", name, "err", err)
		return &certdesk.Error{Code: certdesk.ECONFLICT, Message: "this case is not awaiting a decision right now; reload it to see where it is", Err: err}
	}
	return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not reach the case's workflow", Err: err}
}
