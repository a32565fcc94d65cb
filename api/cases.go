package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// caseJSON is a case as the API shows it (API version 2): the fields every
// case has, and the kind's own under details, typed by kind (a connect's
// accounts and profiles, a merge's preview, a recovery's claim and
// candidates; the OpenAPI document's Case is a oneOf on kind). The
// workflow's ids are for staff only.
type caseJSON struct {
	ID                string          `json:"id"`
	Reference         string          `json:"reference"` // certdesk.Reference: the short reference shown to people
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
	out := caseJSON{ID: c.ID, Reference: certdesk.Reference(c.ID), Kind: c.Kind, Status: c.Status, Resolution: c.Resolution, Escalated: c.Escalated,
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
	p := request.Caller(c)
	return toCaseJSON(cs, p != nil && p.Role.Staff())
}

type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// visibleCase loads the case of the path that the caller may see, or
// answers why not (a learner gets 404 for someone else's case).
func (s *API) visibleCase(c *gin.Context) (certdesk.Case, bool) {
	cs, err := s.desk.VisibleCase(c.Request.Context(), request.Caller(c), c.Param("id"))
	if err != nil {
		respond.Fail(c, err)
		return cs, false
	}
	return cs, true
}

// listCases lists cases: all of them for staff, their own for a learner.
func (s *API) listCases(c *gin.Context) {
	f, err := s.desk.CaseFilter(c.Request.Context(), request.Caller(c), c.Request.URL.Query())
	if err != nil {
		respond.Fail(c, err)
		return
	}
	page, err := s.store.ListCases(c.Request.Context(), f)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	body, err := casePageJSON(page, request.Caller(c).Role.Staff())
	if err != nil {
		respond.Fail(c, err)
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

func (s *API) getCase(c *gin.Context) {
	if cs, ok := s.visibleCase(c); ok {
		c.JSON(http.StatusOK, caseOf(c, cs))
	}
}

// caseEvents lists a case's timeline; ?after=SEQ returns what came since.
func (s *API) caseEvents(c *gin.Context) {
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil || after < 0 {
		respond.Fail(c, certdesk.Invalid(map[string]string{"after": "must be an event seq (a whole number)"}))
		return
	}
	evs, err := s.store.Events(c.Request.Context(), cs.ID, after, 0)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if evs == nil {
		evs = []certdesk.CaseEvent{}
	}
	c.JSON(http.StatusOK, listJSON[certdesk.CaseEvent]{Items: evs})
}
