package pages

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// The public recovery form, /portal/recovery: the same request as
// POST /api/v1/recovery-requests, as a page that works without JavaScript,
// in the learner's language.

type recoveryFormView struct {
	L         i18n.Locale
	Langs     []langChoice
	Form      desk.RecoveryRequest
	Fields    map[string]string
	Summary   []fieldError // the fields to fix, in the form's order
	Error     string
	Done      bool
	Message   string
	CSRFToken string
}

// fieldError is one line of the error summary: it links its field.
type fieldError struct{ Field, Label, Message string }

// recoveryFields are the form's fields in order, with their labels.
var recoveryFields = [][2]string{
	{"legal_name", "Legal name"},
	{"contact_email", "Contact email"},
	{"mcid", "MCID (optional)"},
	{"previous_email", "Account you lost (optional)"},
	{"exam", "An exam you passed (optional)"},
	{"new_account_email", "Personal account to move your profile to"},
	{"description", "What happened"},
}

func (s *Pages) recoveryForm(c *gin.Context) {
	s.renderRecoveryForm(c, http.StatusOK, recoveryFormView{})
}

func (s *Pages) renderRecoveryForm(c *gin.Context, code int, v recoveryFormView) {
	l := s.learnerLocale(c)
	v.L, v.Langs = l, langChoices(c, l)
	v.CSRFToken = s.auth.FormToken(c)
	v.Error = l.T(v.Error)
	if len(v.Fields) > 0 {
		shown := map[string]string{}
		for _, f := range recoveryFields {
			if msg, ok := v.Fields[f[0]]; ok {
				shown[f[0]] = fieldText(l, msg)
				v.Summary = append(v.Summary, fieldError{Field: f[0], Label: l.T(f[1]), Message: shown[f[0]]})
			}
		}
		v.Fields = shown
	}
	c.Header("Referrer-Policy", "no-referrer")
	s.html.Render(c, code, "portal_recovery", l.T("Recover access to your certification profile"), v)
}

// fieldText is a field's error in the learner's language: the message
// whole, or its two parts ("hint (reason)") each translated.
func fieldText(l i18n.Locale, msg string) string {
	if i18n.Has(msg) {
		return l.T(msg)
	}
	if hint, reason, ok := strings.Cut(msg, " ("); ok && strings.HasSuffix(reason, ")") {
		return l.T(hint) + " (" + l.T(strings.TrimSuffix(reason, ")")) + ")"
	}
	return l.T(msg)
}

// submitRecoveryForm answers the form: field errors next to the fields and
// in a summary that links them, the rate limit in words, and otherwise the
// one confirmation every valid request gets, whether or not anything
// matches.
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
	if err := s.desk.SubmitRecovery(withLanguage(c), v.Form); err != nil {
		v.Fields = certdesk.ErrorFields(err)
		if len(v.Fields) == 0 {
			v.Error = certdesk.ErrorMessage(err)
		}
		respond.LogIfInternal(c, err)
		s.renderRecoveryForm(c, respond.Status(err), v)
		return
	}
	l := s.learnerLocale(c)
	v = recoveryFormView{Done: true, Message: s.desk.RecoveryAccepted()}
	if l.Lang != i18n.English {
		v.Message = l.T("Thank you. We have sent an email to the contact address: use its link soon to confirm the address, and your request goes to our support team. If no email arrives, check the address and send the form again.")
	}
	s.renderRecoveryForm(c, http.StatusAccepted, v)
}
