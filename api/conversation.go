package api

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// messages: GET /api/v1/cases/{id}/messages, the case's conversation as
// the caller may see it (held messages for staff only).
func (s *API) messages(c *gin.Context) {
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	list, err := s.desk.Messages(c.Request.Context(), request.Caller(c), cs)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if list == nil {
		list = []store.Message{}
	}
	c.JSON(http.StatusOK, listJSON[store.Message]{Items: list})
}

// writeMessage: POST /api/v1/cases/{id}/messages, the learner writes on
// their open case.
func (s *API) writeMessage(c *gin.Context) {
	var req desk.MessageRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	m, err := s.desk.LearnerMessage(c.Request.Context(), request.Caller(c), cs, req, nil)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// reply: POST /api/v1/cases/{id}/replies, an agent's public reply.
func (s *API) reply(c *gin.Context) {
	var req desk.ReplyRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	m, err := s.desk.Reply(c.Request.Context(), request.Caller(c), cs, req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

// attachment: GET /api/v1/attachments/{id}, for staff, always as a
// download: its name and type came from outside and are never trusted for
// rendering.
func (s *API) attachment(c *gin.Context) {
	a, err := s.desk.Attachment(c.Request.Context(), request.Caller(c), c.Param("id"))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	ServeAttachment(c, a)
}

// ServeAttachment answers an attachment's bytes as a download.
func ServeAttachment(c *gin.Context, a store.Attachment) {
	h := c.Writer.Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/octet-stream", a.Data)
}

// cannedResponses: GET /api/v1/canned-responses (staff).
func (s *API) cannedResponses(c *gin.Context) {
	list, err := s.desk.CannedResponses(c.Request.Context(), request.Caller(c))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if list == nil {
		list = []store.CannedResponse{}
	}
	c.JSON(http.StatusOK, listJSON[store.CannedResponse]{Items: list})
}

// saveCanned: POST /api/v1/canned-responses and PUT …/{id} (supervisors).
func (s *API) saveCanned(c *gin.Context) {
	var req desk.CannedRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cr, err := s.desk.SaveCanned(c.Request.Context(), request.Caller(c), c.Param("id"), req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	code := http.StatusOK
	if c.Param("id") == "" {
		code = http.StatusCreated
	}
	c.JSON(code, cr)
}

// deleteCanned: DELETE /api/v1/canned-responses/{id} (supervisors).
func (s *API) deleteCanned(c *gin.Context) {
	if err := s.desk.DeleteCanned(c.Request.Context(), request.Caller(c), c.Param("id")); err != nil {
		respond.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
