package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// The public recovery form, /portal/recovery: the same request as
// POST /api/v1/recovery-requests, as a page that works without JavaScript.

type recoveryFormView struct {
	Form      desk.RecoveryRequest
	Fields    map[string]string
	Error     string
	Done      bool
	Message   string
	CSRFToken string
}

func (s *Pages) recoveryForm(c *gin.Context) {
	s.renderRecoveryForm(c, http.StatusOK, recoveryFormView{})
}

func (s *Pages) renderRecoveryForm(c *gin.Context, code int, v recoveryFormView) {
	v.CSRFToken = s.auth.FormToken(c)
	c.Header("Referrer-Policy", "no-referrer")
	s.html.Render(c, code, "portal_recovery", "Recover access to your certification profile", v)
}

// submitRecoveryForm answers the form: field errors next to the fields, the
// rate limit in words, and otherwise the one confirmation every valid
// request gets, whether or not anything matches.
func (s *Pages) submitRecoveryForm(c *gin.Context) {
	var v recoveryFormView
	if !s.auth.ValidForm(c) {
		v.Error = "The form is out of date. Please send it again."
		s.renderRecoveryForm(c, http.StatusForbidden, v)
		return
	}
	if err := s.auth.Limit(c, desk.RecoveryPerClient, request.ClientAddr(c)); err != nil {
		v.Error = certdesk.ErrorMessage(err)
		s.renderRecoveryForm(c, http.StatusTooManyRequests, v)
		return
	}
	_ = c.ShouldBind(&v.Form)
	if err := s.desk.SubmitRecovery(c.Request.Context(), v.Form); err != nil {
		v.Fields = certdesk.ErrorFields(err)
		if len(v.Fields) == 0 {
			v.Error = certdesk.ErrorMessage(err)
		}
		respond.LogIfInternal(c, err)
		s.renderRecoveryForm(c, respond.Status(err), v)
		return
	}
	v = recoveryFormView{Done: true, Message: s.desk.RecoveryAccepted()}
	s.renderRecoveryForm(c, http.StatusAccepted, v)
}
