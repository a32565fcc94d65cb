package pages

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
)

// assignedWindow is how far back the "assigned to you" notice goes when
// the staff member never dismissed it.
const assignedWindow = 24 * time.Hour

// noticesView is what the layout tells a staff member above any console
// page (_notices.html).
type noticesView struct {
	Assigned []assignedNote
	Back     string // the page they are on, to come back to after dismissing
}

// assignedNote is one "Bob assigned you case CD-4F7K2 — open it".
type assignedNote struct {
	CaseID, Reference, Subject, By, Ago string
}

// notices are a staff member's notices: the cases someone else assigned
// to them since they last dismissed the notice (on their staff row, so
// every browser of theirs agrees) and still theirs. A failure only hides
// the notice.
func (s *Pages) notices(c *gin.Context, p *certdesk.Principal) any {
	if p.AgentID == "" || !strings.HasPrefix(c.Request.URL.Path, "/console") {
		return nil
	}
	ctx := c.Request.Context()
	now := s.now()
	since := now.Add(-assignedWindow)
	n, err := s.store.StaffNotices(ctx, p.AgentID)
	if err != nil {
		slog.ErrorContext(ctx, "staff notices", "err", err)
		return nil
	}
	if n.AssignedSeenAt.After(since) {
		since = n.AssignedSeenAt
	}
	as, err := s.store.AssignedTo(ctx, p.AgentID, since)
	if err != nil || len(as) == 0 {
		if err != nil {
			slog.ErrorContext(ctx, "assigned notices", "err", err)
		}
		return nil
	}
	_, names, err := s.agentNames(ctx)
	if err != nil {
		slog.ErrorContext(ctx, "assigned notices", "err", err)
		return nil
	}
	v := noticesView{Back: c.Request.URL.RequestURI()}
	for _, a := range as {
		by := "Someone"
		if id, ok := a.By.Agent(); ok && names[id] != "" {
			by = names[id]
		}
		ref := certdesk.Reference(a.Case.ID)
		v.Assigned = append(v.Assigned, assignedNote{CaseID: a.Case.ID, Reference: ref, Subject: or(a.Case.Subject, "case "+ref), By: by, Ago: ago(now.Sub(a.At))})
	}
	return v
}

// seenAssigned is POST /console/notifications/seen: the staff member
// dismisses the notice (every assignment shown so far), and goes back to
// the page they were on.
func (s *Pages) seenAssigned(c *gin.Context) {
	p := request.Caller(c)
	if err := s.store.SeeAssigned(c.Request.Context(), p.AgentID, s.now()); err != nil {
		s.html.Error(c, err)
		return
	}
	back := c.PostForm("back")
	if !strings.HasPrefix(back, "/console") || strings.HasPrefix(back, "//") {
		back = "/console"
	}
	c.Redirect(http.StatusSeeOther, back)
}

// noticeSettingsView is the page of a staff member's notice settings.
type noticeSettingsView struct {
	Email         string
	EmailOnAssign bool
	Saved         bool
}

// noticeSettings is GET /console/notices: "Email me when a case is
// assigned to me".
func (s *Pages) noticeSettings(c *gin.Context) {
	p := request.Caller(c)
	n, err := s.store.StaffNotices(c.Request.Context(), p.AgentID)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "console_notices", "Your notices",
		noticeSettingsView{Email: p.Email, EmailOnAssign: n.EmailOnAssign, Saved: c.Query("done") == "saved"})
}

// saveNoticeSettings is POST /console/notices: the staff member's own
// settings (nobody sets another's).
func (s *Pages) saveNoticeSettings(c *gin.Context) {
	p := request.Caller(c)
	if err := s.store.SetEmailOnAssign(c.Request.Context(), p.AgentID, c.PostForm("email_on_assign") == "on"); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/notices?done=saved")
}
