package desk

import (
	"context"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

type UndoRequest struct {
	// Note is why the merge was a mistake: required, on the case.
	Note string `json:"note" form:"note"`
}

// RequestUnmerge opens an unmerge case for a completed merge: a supervisor
// asks, with a reason; another staff member approves. A merge that cannot
// be undone exactly is refused here with the reason (ECONFLICT) and starts
// nothing. While an undo of the merge is open, asking again answers that
// case (existing is true).
func (s *Desk) RequestUnmerge(ctx context.Context, p *certdesk.Principal, merge certdesk.Case, req UndoRequest) (cs certdesk.Case, existing bool, err error) {
	defer func() {
		s.auditAction(ctx, p, "undo_merge", merge, map[string]any{"note": req.Note, "unmerge_case_id": cs.ID}, err)
	}()
	if p.Role != certdesk.RoleSupervisor {
		return certdesk.Case{}, false, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor asks to undo a merge")
	}
	req.Note = strings.TrimSpace(req.Note)
	switch {
	case req.Note == "":
		return certdesk.Case{}, false, certdesk.Invalid(map[string]string{"note": "say why the merge was a mistake (it stays on the case)"})
	case len(req.Note) > certdesk.MaxNote:
		return certdesk.Case{}, false, certdesk.Invalid(map[string]string{"note": "must be at most 4000 characters"})
	}
	if open, ok, err := s.store.OpenChild(ctx, merge.ID, certdesk.KindUnmerge); err != nil || ok {
		return open, ok, err
	}
	review, err := s.store.ReviewUnmerge(ctx, merge.ID, s.cfg.UnmergeWindow)
	if err != nil {
		return certdesk.Case{}, false, err
	}
	subject := merge.LearnerEmail
	if len(review.Owners) > 0 {
		subject = review.Owners[0].Email
	}
	in := workflows.UnmergeInput{CaseID: certdesk.NewID(), MergeCaseID: merge.ID, Note: req.Note, RequestedBy: p.Actor(),
		Window: workflows.Duration(s.cfg.UnmergeWindow), AgentSLA: workflows.Duration(s.cfg.AgentSLA)}
	// One undo per merge at a time: a request racing this one joins it.
	cs, err = s.startCase(ctx, subject, in.CaseID, workflows.UnmergeWorkflowID(merge.ID), enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		workflows.Unmerge, in, certdesk.KindUnmerge)
	return cs, err == nil && cs.ID != in.CaseID, err
}
