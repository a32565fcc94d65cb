package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// The public recovery form, /portal/recovery: the same request as
// POST /api/v1/recovery-requests, as a page that works without JavaScript.

type recoveryFormView struct {
	Form      recoveryRequest
	Fields    map[string]string
	Error     string
	Done      bool
	Message   string
	CSRFToken string
}

func (s *Server) recoveryForm(c *gin.Context) {
	s.renderRecoveryForm(c, http.StatusOK, recoveryFormView{})
}

func (s *Server) renderRecoveryForm(c *gin.Context, code int, v recoveryFormView) {
	v.CSRFToken = s.formToken(c)
	c.Header("Referrer-Policy", "no-referrer")
	s.pages.Render(c.Writer, code, "portal_recovery", s.pageData(c, "Recover access to your certification profile", v))
}

// submitRecoveryForm answers the form: field errors next to the fields, the
// rate limit in words, and otherwise the one confirmation every valid
// request gets, whether or not anything matches.
func (s *Server) submitRecoveryForm(c *gin.Context) {
	var v recoveryFormView
	if !s.validForm(c) {
		v.Error = "The form is out of date. Please send it again."
		s.renderRecoveryForm(c, http.StatusForbidden, v)
		return
	}
	if err := s.limited(c, recoveryPerClient, clientAddr(c)); err != nil {
		v.Error = certdesk.ErrorMessage(err)
		s.renderRecoveryForm(c, http.StatusTooManyRequests, v)
		return
	}
	_ = c.ShouldBind(&v.Form)
	if err := s.submitRecovery(c, v.Form); err != nil {
		v.Fields = certdesk.ErrorFields(err)
		if len(v.Fields) == 0 {
			v.Error = certdesk.ErrorMessage(err)
		}
		logIfInternal(c, err)
		s.renderRecoveryForm(c, status(certdesk.ErrorCode(err)), v)
		return
	}
	v = recoveryFormView{Done: true, Message: s.recoveryAccepted()["message"].(string)}
	s.renderRecoveryForm(c, http.StatusAccepted, v)
}
