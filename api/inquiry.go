package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// askQuestion: POST /api/v1/inquiries, a signed-in learner's general
// question (attachments come by the portal's form or by email).
func (s *API) askQuestion(c *gin.Context) {
	var req desk.InquiryRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cs, err := s.desk.AskQuestion(c.Request.Context(), request.Caller(c), req, nil)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, caseOf(c, cs))
}

// convert: POST /api/v1/cases/{id}/convert, an agent turns an inquiry into
// the connect, merge or recovery case the learner needs; the inquiry closes
// naming it, and the new case names the inquiry as its parent.
func (s *API) convert(c *gin.Context) {
	var req desk.ConvertRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	inq, ok := s.visibleCase(c)
	if !ok {
		return
	}
	child, err := s.desk.Convert(c.Request.Context(), request.Caller(c), inq, req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, caseOf(c, child))
}
