// Package respond answers, the same way for the JSON API, the pages and the
// sign-in: an error in the contract's shape or as the error page, with the
// status of its code (certdesk.ToStatus), and pages in the layout.
package respond

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/web"
)

// ErrorBody is the contract's error shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error as a caller reads it.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// Status is the HTTP status of an error.
func Status(err error) int { return certdesk.ToStatus(certdesk.ErrorCode(err)) }

// Fail answers an error in the contract's shape. Internal errors are logged
// with their detail and answered with a generic message.
func Fail(c *gin.Context, err error) {
	code := certdesk.ErrorCode(err)
	LogIfInternal(c, err)
	var retry interface{ RetryAfter() time.Duration }
	if errors.As(err, &retry) {
		c.Header("Retry-After", strconv.Itoa(int(retry.RetryAfter().Seconds())))
	}
	c.AbortWithStatusJSON(certdesk.ToStatus(code), ErrorBody{Error: ErrorDetail{
		Code:      code,
		Message:   certdesk.ErrorMessage(err),
		Fields:    certdesk.ErrorFields(err),
		RequestID: request.ID(c),
	}})
}

// LogIfInternal logs an error the caller cannot fix, with its detail.
func LogIfInternal(c *gin.Context, err error) {
	if code := certdesk.ErrorCode(err); code == certdesk.EINTERNAL || code == certdesk.EUNAVAILABLE {
		slog.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", request.ID(c),
			"method", c.Request.Method, "path", c.FullPath())
	}
}

// HTML renders pages in the layout, and the error page.
type HTML struct {
	Views *web.Pages
	// Dev marks the pages of `certdesk dev`.
	Dev bool
	// Notices, when set, are what the layout tells a signed-in staff
	// member above any page (pages' notices: cases assigned to them).
	Notices func(c *gin.Context, p *certdesk.Principal) any
}

// Render renders a view in the layout.
func (h *HTML) Render(c *gin.Context, code int, view, title string, data any) {
	h.Views.Render(c.Writer, code, view, h.page(c, title, data))
}

func (h *HTML) page(c *gin.Context, title string, data any) web.Page {
	page := web.Page{Title: title, Dev: h.Dev, Data: data, CSRFToken: request.CSRF(c)}
	if p := request.Caller(c); p != nil {
		page.Signed = &web.Person{Name: p.Name, Email: p.Email, Role: string(p.Role)}
		if p.Role.Staff() && h.Notices != nil {
			page.Notices = h.Notices(c, p)
		}
	}
	return page
}

// ErrorView is the error page's data.
type ErrorView struct {
	Code      int
	Message   string
	RequestID string
	// Link and LinkText are the way on, when the error has one (an
	// inactive account's sign-in links the recovery form).
	Link, LinkText string
	// L is the language of a learner's error page (English when zero), and
	// Langs its switcher's choices.
	L     i18n.Locale
	Langs any
}

// Error renders an error as the error page, in its status.
func (h *HTML) Error(c *gin.Context, err error) { h.ErrorIn(c, err, i18n.For(i18n.English), nil) }

// ErrorIn renders an error as the error page in a learner's language, with
// the language switcher's choices.
func (h *HTML) ErrorIn(c *gin.Context, err error, loc i18n.Locale, langs any) {
	LogIfInternal(c, err)
	code := Status(err)
	v := ErrorView{Code: code, Message: loc.T(certdesk.ErrorMessage(err)), RequestID: request.ID(c), L: loc, Langs: langs}
	var l interface{ Link() (string, string) }
	if errors.As(err, &l) {
		v.Link, v.LinkText = l.Link()
		v.LinkText = loc.T(v.LinkText)
	}
	h.Render(c, code, "error", loc.T("Something went wrong"), v)
	c.Abort()
}

// Refuse answers an error the way the request expects: the error page for
// a browser's page or form, the error shape for everything else.
func (h *HTML) Refuse(c *gin.Context, err error) {
	if request.AnswersJSON(c) {
		Fail(c, err)
		return
	}
	h.Error(c, err)
}

// Redirect answers 303 See Other to a path of this site.
func Redirect(c *gin.Context, path string) { c.Redirect(http.StatusSeeOther, path) }
