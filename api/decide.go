package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// What agents do on a case (see desk: decide, claim, notes, security
// review), as the JSON API takes it.

// decide: POST /api/v1/cases/{id}/decision.
func (s *API) decide(c *gin.Context) {
	var req desk.DecisionRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	if cs, ok := s.visibleCase(c); ok {
		s.answerCase(c, http.StatusOK)(s.desk.Decide(c.Request.Context(), request.Caller(c), cs, req))
	}
}

// undo: POST /api/v1/cases/{id}/undo, a supervisor's request to undo a
// completed merge: 202 with the unmerge case it opens, 200 with the one
// already open.
func (s *API) undo(c *gin.Context) {
	var req desk.UndoRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	un, existing, err := s.desk.RequestUnmerge(c.Request.Context(), request.Caller(c), cs, req)
	status := http.StatusAccepted
	if existing {
		status = http.StatusOK
	}
	s.answerCase(c, status)(un, err)
}

// claim: POST /api/v1/cases/{id}/claim (the body is optional).
func (s *API) claim(c *gin.Context) {
	var req desk.ClaimRequest
	if c.Request.ContentLength != 0 {
		if err := request.DecodeJSON(c, &req); err != nil {
			respond.Fail(c, err)
			return
		}
	}
	if cs, ok := s.visibleCase(c); ok {
		s.answerCase(c, http.StatusOK)(s.desk.Claim(c.Request.Context(), request.Caller(c), cs, req))
	}
}

// addNote: POST /api/v1/cases/{id}/notes.
func (s *API) addNote(c *gin.Context) {
	var req desk.NoteRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	if cs, ok := s.visibleCase(c); ok {
		s.answerCase(c, http.StatusCreated)(s.desk.Note(c.Request.Context(), request.Caller(c), cs, req))
	}
}

// answerCase answers a case or the error that stopped the change.
func (s *API) answerCase(c *gin.Context, code int) func(certdesk.Case, error) {
	return func(cs certdesk.Case, err error) {
		if err != nil {
			respond.Fail(c, err)
			return
		}
		c.JSON(code, caseOf(c, cs))
	}
}

// reviewCase: POST /api/v1/cases/{id}/security-review.
func (s *API) reviewCase(c *gin.Context) {
	var req desk.NoteRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	if cs, ok := s.visibleCase(c); ok {
		s.answerCase(c, http.StatusOK)(s.desk.ClearReview(c.Request.Context(), request.Caller(c), cs, req))
	}
}
