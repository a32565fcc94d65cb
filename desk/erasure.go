package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/api/serviceerror"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// Erasure of a person at their request. A supervisor asks, with a reason;
// another approves (four eyes), and then it is carried out: the person's
// open cases are stopped and end cancelled with the reason on their
// timeline, their data in the store is redacted as retention does, and
// their own keys are destroyed, which leaves their payloads in Temporal's
// histories unreadable (codec/subject.go). An operator's command
// (`certdesk privacy erase`) does both steps at once.

// RequestErasure records a supervisor's request to erase the person with
// an address; it waits for another supervisor's approval.
func (s *Desk) RequestErasure(ctx context.Context, p *certdesk.Principal, email, reason string) (e store.Erasure, err error) {
	defer func() {
		s.Audit(ctx, p.Actor(), "erasure_requested", "", p.ClientAddr, map[string]any{"erasure_id": e.ID, "error": errText(err)})
	}()
	if p.Role != certdesk.RoleSupervisor {
		return e, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor asks to erase a person")
	}
	addr, reason, err := erasureRequest(email, reason)
	if err != nil {
		return e, err
	}
	return s.store.RequestErasure(ctx, addr, reason, p.Actor())
}

// ApproveErasure carries out an erasure another supervisor asked for.
func (s *Desk) ApproveErasure(ctx context.Context, p *certdesk.Principal, id string) (res store.ErasureResult, err error) {
	defer func() {
		s.Audit(ctx, p.Actor(), "person_erased", "", p.ClientAddr, map[string]any{"erasure_id": id, "result": res, "error": errText(err)})
	}()
	if p.Role != certdesk.RoleSupervisor {
		return res, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor approves an erasure")
	}
	e, err := s.store.Erasure(ctx, id)
	switch {
	case err != nil:
		return res, err
	case !e.Pending():
		return res, certdesk.Errorf(certdesk.ECONFLICT, "this erasure is not pending")
	case e.RequestedBy == p.Actor():
		return res, certdesk.Errorf(certdesk.EFORBIDDEN, "another supervisor approves an erasure you asked for (four eyes)")
	}
	return s.carryOut(ctx, e, p.Actor())
}

// WithdrawErasure withdraws a pending erasure (any supervisor).
func (s *Desk) WithdrawErasure(ctx context.Context, p *certdesk.Principal, id string) (err error) {
	defer func() {
		s.Audit(ctx, p.Actor(), "erasure_withdrawn", "", p.ClientAddr, map[string]any{"erasure_id": id, "error": errText(err)})
	}()
	if p.Role != certdesk.RoleSupervisor {
		return certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor withdraws an erasure")
	}
	return s.store.WithdrawErasure(ctx, id)
}

// Erasures lists the latest erasures for a supervisor.
func (s *Desk) Erasures(ctx context.Context, p *certdesk.Principal) ([]store.Erasure, error) {
	if p.Role != certdesk.RoleSupervisor {
		return nil, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor sees erasures")
	}
	return s.store.Erasures(ctx, 50)
}

// EraseNow erases a person at once, for an operator's command: the request
// and its approval are one act of someone with the system's own access.
func (s *Desk) EraseNow(ctx context.Context, by certdesk.Actor, email, reason string) (res store.ErasureResult, err error) {
	addr, reason, err := erasureRequest(email, reason)
	if err != nil {
		return res, err
	}
	e, err := s.store.RequestErasure(ctx, addr, reason, by)
	defer func() {
		s.Audit(ctx, by, "person_erased", "", "", map[string]any{"erasure_id": e.ID, "result": res, "error": errText(err)})
	}()
	if err != nil {
		return res, err
	}
	return s.carryOut(ctx, e, by)
}

func erasureRequest(email, reason string) (string, string, error) {
	fields := map[string]string{}
	addr, err := certdesk.ParseEmail(email)
	if err != nil {
		fields["email"] = err.Error()
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		fields["reason"] = "say why (for example: the person asked on 3 December by email); do not name them"
	case len(reason) > certdesk.MaxNote:
		fields["reason"] = "must be at most 4000 characters"
	}
	if len(fields) > 0 {
		return "", "", certdesk.Invalid(fields)
	}
	return addr, reason, nil
}

// carryOut stops the person's running workflows, then erases them from the
// store and destroys their keys, and makes this process forget those keys.
func (s *Desk) carryOut(ctx context.Context, e store.Erasure, by certdesk.Actor) (store.ErasureResult, error) {
	pd, err := s.store.PersonalData(ctx, e.Email)
	if err != nil {
		return store.ErasureResult{}, err
	}
	if err := s.stopWorkflowsOf(ctx, e.ID, pd); err != nil {
		return store.ErasureResult{}, err
	}
	res, err := s.store.ErasePerson(ctx, e.ID, by, pd)
	if err != nil {
		return res, err
	}
	if s.codec != nil {
		for _, id := range res.KeyIDs {
			s.codec.Forget(id)
		}
	}
	slog.InfoContext(ctx, "person erased", "erasure", e.ID, "cases", res.Cases, "cancelled", res.CancelledCases, "keys", res.SubjectKeys)
	return res, nil
}

// stopWorkflowsOf terminates the workflows still running for the person —
// their open cases, the replies and account notices being sent — so none
// writes after the erasure (and none is left failing to write under a
// destroyed key). Terminated, not cancelled: a cancelled workflow would
// write its last steps with the very data being erased.
func (s *Desk) stopWorkflowsOf(ctx context.Context, erasureID string, pd store.PersonalData) error {
	var ids []string
	for _, c := range pd.Cases {
		if c["closed_at"] == nil {
			if id, _ := c["workflow_id"].(string); id != "" {
				ids = append(ids, id)
			}
		}
	}
	for _, m := range pd.Messages {
		if d, _ := m["direction"].(string); d == string(store.MessageOut) {
			ids = append(ids, workflows.CaseReplyWorkflowID(fmt.Sprint(m["id"])))
		}
	}
	for _, a := range pd.Accounts {
		if lp, _ := a["learning_profile_id"].(string); lp != "" {
			ids = append(ids, workflows.AccountAddedWorkflowID(fmt.Sprint(a["id"]), lp))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if s.temporal == nil {
		return certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured: the person's running cases cannot be stopped, so nothing was erased")
	}
	for _, id := range ids {
		err := s.temporal.TerminateWorkflow(ctx, id, "", "the person's personal data is being erased (erasure "+erasureID+")")
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not stop the person's running cases, so nothing was erased; try again", Err: err}
		}
	}
	return nil
}
