package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// caseJSON is a case as the API shows it (API version 2): the fields every
// case has, and the kind's own under details, typed by kind (a connect's
// accounts and profiles, a merge's preview, a recovery's claim and
// candidates; the OpenAPI document's Case is a oneOf on kind). The
// workflow's ids are for staff only.
type caseJSON struct {
	ID                string          `json:"id"`
	Kind              certdesk.Kind   `json:"kind"`
	Status            certdesk.Status `json:"status"`
	Resolution        string          `json:"resolution"`
	Escalated         bool            `json:"escalated"`
	Unreachable       bool            `json:"unreachable"`
	SecurityReview    bool            `json:"security_review"`
	Subject           string          `json:"subject"`
	LearnerName       string          `json:"learner_name"`
	LearnerEmail      string          `json:"learner_email"`
	LearningProfileID *string         `json:"learning_profile_id,omitempty"`
	AccountID         *string         `json:"account_id,omitempty"`
	ProfileIDs        []string        `json:"profile_ids"`
	Requester         certdesk.Actor  `json:"requester"`
	Assignee          *string         `json:"assignee,omitempty"`
	ParentCaseID      *string         `json:"parent_case_id,omitempty"`
	SLADueAt          *time.Time      `json:"sla_due_at,omitempty"`
	Version           int64           `json:"version"`
	WorkflowID        string          `json:"workflow_id,omitempty"`
	RunID             string          `json:"run_id,omitempty"`
	Details           json.RawMessage `json:"details"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
	ClosedAt          *time.Time      `json:"closed_at,omitempty"`
}

// toCaseJSON is a case as a caller sees it; staff also see its workflow.
func toCaseJSON(c certdesk.Case, staff bool) caseJSON {
	out := caseJSON{ID: c.ID, Kind: c.Kind, Status: c.Status, Resolution: c.Resolution, Escalated: c.Escalated,
		Unreachable: c.Unreachable, SecurityReview: c.SecurityReview, Subject: c.Subject, LearnerName: c.LearnerName,
		LearnerEmail: c.LearnerEmail, LearningProfileID: c.LearningProfileID, AccountID: c.AccountID, ProfileIDs: c.ProfileIDs,
		Requester: c.Requester, Assignee: c.AssigneeID, ParentCaseID: c.ParentCaseID, SLADueAt: c.SLADueAt, Version: c.Version,
		Details: c.Details, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt}
	if out.ProfileIDs == nil {
		out.ProfileIDs = []string{}
	}
	if len(out.Details) == 0 {
		out.Details = json.RawMessage(`{}`)
	}
	if staff {
		out.WorkflowID, out.RunID = c.WorkflowID, c.RunID
	}
	return out
}

// caseOf answers a case in the caller's view of it.
func caseOf(c *gin.Context, cs certdesk.Case) caseJSON {
	p := caller(c)
	return toCaseJSON(cs, p != nil && p.Role.Staff())
}

type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// listCases lists cases: all of them for staff, their own for a learner.
func (s *Server) listCases(c *gin.Context) {
	f, err := s.caseFilter(c)
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.store.ListCases(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	body, err := casePageJSON(page, caller(c).Role.Staff())
	if err != nil {
		fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// casePageJSON writes a page of cases.
func casePageJSON(page store.Page, staff bool) ([]byte, error) {
	out := listJSON[caseJSON]{Items: make([]caseJSON, len(page.Items)), NextCursor: page.NextCursor}
	for i, cs := range page.Items {
		out.Items[i] = toCaseJSON(cs, staff)
	}
	return json.Marshal(out)
}

// caseFilter reads the list's query: kind, status (comma-separated),
// assignee (an agent id, "me" or "none"), q, order, limit, cursor.
func (s *Server) caseFilter(c *gin.Context) (store.CaseFilter, error) {
	p := caller(c)
	f := store.CaseFilter{Kind: certdesk.Kind(c.Query("kind")), Q: c.Query("q"), Cursor: c.Query("cursor"), Order: c.Query("order")}
	fields := map[string]string{}
	if f.Kind != "" && !f.Kind.Valid() {
		fields["kind"] = "must be connect, merge or recovery"
	}
	if st := c.Query("status"); st != "" {
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
		f.Assignee = c.Query("assignee")
		if f.Assignee == "me" {
			f.Assignee = p.AgentID
		}
	}
	for name, dst := range map[string]**bool{"escalated": &f.Escalated, "security_review": &f.SecurityReview} {
		if v := c.Query(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fields[name] = "must be true or false"
			}
			*dst = &b
		}
	}
	if l := c.Query("limit"); l != "" {
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
		scope, err := s.learnerScope(c.Request.Context(), p)
		if err != nil {
			return f, err
		}
		f.Learner = &scope
	}
	return f, nil
}

func (s *Server) learnerScope(ctx context.Context, p *Principal) (store.LearnerScope, error) {
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

// visibleCase loads a case the caller may see. A learner asking for someone
// else's case gets the same 404 as for a case that does not exist.
func (s *Server) visibleCase(c *gin.Context) (certdesk.Case, bool) {
	id := c.Param("id")
	notFound := certdesk.Errorf(certdesk.ENOTFOUND, "no case %q", id)
	if !certdesk.ValidID(id) {
		fail(c, notFound)
		return certdesk.Case{}, false
	}
	cs, err := s.store.Case(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return cs, false
	}
	p := caller(c)
	if p.Role.Staff() {
		return cs, true
	}
	scope, err := s.learnerScope(c.Request.Context(), p)
	if err != nil {
		fail(c, err)
		return cs, false
	}
	if cs.LearningProfileID != nil && *cs.LearningProfileID == scope.LearningProfileID && scope.LearningProfileID != "" {
		return cs, true
	}
	for _, a := range scope.AccountIDs {
		if cs.AccountID != nil && *cs.AccountID == a {
			return cs, true
		}
	}
	fail(c, notFound)
	return cs, false
}

func (s *Server) getCase(c *gin.Context) {
	if cs, ok := s.visibleCase(c); ok {
		c.JSON(http.StatusOK, caseOf(c, cs))
	}
}

// caseEvents lists a case's timeline; ?after=SEQ returns what came since.
func (s *Server) caseEvents(c *gin.Context) {
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil || after < 0 {
		fail(c, certdesk.Invalid(map[string]string{"after": "must be an event seq (a whole number)"}))
		return
	}
	evs, err := s.store.Events(c.Request.Context(), cs.ID, after, 0)
	if err != nil {
		fail(c, err)
		return
	}
	if evs == nil {
		evs = []certdesk.CaseEvent{}
	}
	c.JSON(http.StatusOK, listJSON[certdesk.CaseEvent]{Items: evs})
}
