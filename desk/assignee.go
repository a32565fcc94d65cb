package desk

import (
	"context"
	"log/slog"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// tellAssignee tells a case's workflow who holds the case after a claim or
// an assignment (SignalAssigneeChanged), so that its CaseAssignee search
// attribute follows: the claim is the desk's to write in the store, and the
// workflow never reads the store for it. The signal carries the
// projection's version, so one that arrives after a later change is
// ignored. The store is the record: a workflow that has ended, or a signal
// that fails, changes nothing for the case (the workflow's next projection
// write carries the assignee too). by is the staff member who made the
// change: an assignee who is not them is emailed of it if they asked
// (workflows/assigned.go).
func (s *Desk) tellAssignee(ctx context.Context, cs certdesk.Case, by string) {
	if s.temporal == nil || cs.WorkflowID == "" {
		return
	}
	who := workflows.AssigneeChanged{Version: cs.Version, By: by}
	if cs.AssigneeID != nil {
		who.Assignee = *cs.AssigneeID
	}
	if err := s.temporal.SignalWorkflow(ctx, cs.WorkflowID, cs.RunID, workflows.SignalAssigneeChanged, who); err != nil {
		slog.InfoContext(ctx, "assignee signal not delivered", "case", cs.ID, "err", err)
	}
}
