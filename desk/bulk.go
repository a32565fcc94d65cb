package desk

import (
	"context"
	"strings"

	"github.com/certdesk/certdesk"
)

// Bulk actions on the queue: each selected case goes through the same
// Claim or Note as one at a time, so the rules and the audit hold, and a
// refusal on one case is reported without stopping the others.

// The bulk actions.
const (
	BulkClaim  = "claim"  // the caller claims each case
	BulkAssign = "assign" // a supervisor assigns each case to Assignee
	BulkNote   = "note"   // an internal note on each case
)

// MaxBulk is the most cases one bulk action takes (a page of the queue).
const MaxBulk = 50

// BulkRequest is a bulk action on some cases.
type BulkRequest struct {
	Action   string
	CaseIDs  []string
	Assignee string
	Note     string
}

// BulkOutcome is what became of one case.
type BulkOutcome struct {
	Case    certdesk.Case // as it is after the action (or as it was, refused)
	CaseID  string
	Refusal error // nil when done
}

// Bulk applies an action to each case; the error is for the request as a
// whole (an unknown action, no case, too many).
func (s *Desk) Bulk(ctx context.Context, p *certdesk.Principal, req BulkRequest) ([]BulkOutcome, error) {
	switch req.Action {
	case BulkClaim, BulkAssign, BulkNote:
	default:
		return nil, certdesk.Invalid(map[string]string{"action": "must be claim, assign or note"})
	}
	if len(req.CaseIDs) == 0 {
		return nil, certdesk.Invalid(map[string]string{"cases": "choose at least one case"})
	}
	if len(req.CaseIDs) > MaxBulk {
		return nil, certdesk.Invalid(map[string]string{"cases": "choose at most 50 cases at a time"})
	}
	if req.Action == BulkAssign && req.Assignee == "" {
		return nil, certdesk.Invalid(map[string]string{"assignee": "choose the agent to assign"})
	}
	if req.Action == BulkNote && strings.TrimSpace(req.Note) == "" {
		return nil, certdesk.Invalid(map[string]string{"note": "write the note"})
	}
	seen := map[string]bool{}
	var out []BulkOutcome
	for _, id := range req.CaseIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		o := BulkOutcome{CaseID: id}
		cs, err := s.store.Case(ctx, id)
		if err == nil {
			o.Case = cs
			switch req.Action {
			case BulkClaim:
				o.Case, err = s.Claim(ctx, p, cs, ClaimRequest{Version: cs.Version})
			case BulkAssign:
				o.Case, err = s.Claim(ctx, p, cs, ClaimRequest{Assignee: req.Assignee, Version: cs.Version})
			case BulkNote:
				o.Case, err = s.Note(ctx, p, cs, NoteRequest{Note: req.Note})
			}
		}
		o.Refusal = err
		out = append(out, o)
	}
	return out, nil
}
