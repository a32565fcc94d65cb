package desk

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// CaseFilter reads a list's query for a caller: kind, status
// (comma-separated), assignee (an agent id, "me" or "none"), escalated,
// security_review, q, order, limit, cursor. A learner's list is their own
// cases, whatever the query says.
func (s *Desk) CaseFilter(ctx context.Context, p *certdesk.Principal, q url.Values) (store.CaseFilter, error) {
	f := store.CaseFilter{Kind: certdesk.Kind(q.Get("kind")), Q: q.Get("q"), Cursor: q.Get("cursor"), Order: q.Get("order")}
	fields := map[string]string{}
	if f.Kind != "" && !f.Kind.Valid() {
		fields["kind"] = "must be connect, merge or recovery"
	}
	if st := q.Get("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !certdesk.Status(v).Valid() {
				fields["status"] = "unknown status " + strconv.Quote(v)
				break
			}
			f.Statuses = append(f.Statuses, certdesk.Status(v))
		}
	}
	// Assignment is staff business; a learner's list ignores the filter.
	if p.Role.Staff() {
		f.Assignee = q.Get("assignee")
		if f.Assignee == "me" {
			f.Assignee = p.AgentID
		}
	}
	for name, dst := range map[string]**bool{"escalated": &f.Escalated, "security_review": &f.SecurityReview} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fields[name] = "must be true or false"
			}
			*dst = &b
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxPageSize {
			fields["limit"] = "must be a number from 1 to " + strconv.Itoa(store.MaxPageSize)
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return f, certdesk.Invalid(fields)
	}
	if !p.Role.Staff() {
		scope, err := s.LearnerScope(ctx, p)
		if err != nil {
			return f, err
		}
		f.Learner = &scope
	}
	return f, nil
}

// LearnerScope is whose cases a learner sees: those about their accounts
// or their learning profile.
func (s *Desk) LearnerScope(ctx context.Context, p *certdesk.Principal) (store.LearnerScope, error) {
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		return store.LearnerScope{}, err
	}
	scope := store.LearnerScope{}
	for _, a := range l.Accounts {
		scope.AccountIDs = append(scope.AccountIDs, a.ID)
	}
	if l.LearningProfile != nil {
		scope.LearningProfileID = l.LearningProfile.ID
	}
	return scope, nil
}

// VisibleCase loads a case the caller may see. A learner asking for someone
// else's case gets the same ENOTFOUND as for a case that does not exist.
func (s *Desk) VisibleCase(ctx context.Context, p *certdesk.Principal, id string) (certdesk.Case, error) {
	notFound := certdesk.Errorf(certdesk.ENOTFOUND, "no case %q", id)
	if !certdesk.ValidID(id) {
		return certdesk.Case{}, notFound
	}
	cs, err := s.store.Case(ctx, id)
	if err != nil || p.Role.Staff() {
		return cs, err
	}
	scope, err := s.LearnerScope(ctx, p)
	if err != nil {
		return certdesk.Case{}, err
	}
	if cs.LearningProfileID != nil && *cs.LearningProfileID == scope.LearningProfileID && scope.LearningProfileID != "" {
		return cs, nil
	}
	for _, a := range scope.AccountIDs {
		if cs.AccountID != nil && *cs.AccountID == a {
			return cs, nil
		}
	}
	return certdesk.Case{}, notFound
}
