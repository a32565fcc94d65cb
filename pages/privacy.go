package pages

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/store"
)

// The personal-data page: a supervisor downloads a person's copy for a
// request that came by another way, and asks to erase a person; another
// supervisor approves the erasure (four eyes), and only then is it done.

type erasureRow struct {
	store.Erasure
	// Mine: the viewer asked for it (someone else approves).
	Mine    bool
	Summary string
	// When it was done or withdrawn.
	When time.Time
}

type privacyView struct {
	Pending, Done []erasureRow
	Notice        string
	// Form keeps what was typed when it was refused.
	Email, Reason string
	Errors        map[string]string
}

// privacyPage is GET /console/privacy.
func (s *Pages) privacyPage(c *gin.Context) {
	s.renderPrivacy(c, http.StatusOK, privacyView{Notice: privacyNotices[c.Query("done")]})
}

var privacyNotices = map[string]string{
	"requested": "The erasure is asked for. Another supervisor approves it on this page; until then nothing is erased.",
	"erased":    "The person is erased: their running cases were stopped, their data in certdesk redacted and their own keys destroyed.",
	"withdrawn": "The erasure was withdrawn; nothing was erased.",
}

func (s *Pages) renderPrivacy(c *gin.Context, status int, v privacyView) {
	p := request.Caller(c)
	all, err := s.desk.Erasures(c.Request.Context(), p)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	for _, e := range all {
		r := erasureRow{Erasure: e, Mine: e.RequestedBy == p.Actor(), Summary: erasureSummary(e.Result)}
		if e.DoneAt != nil {
			r.When = *e.DoneAt
		} else if e.WithdrawnAt != nil {
			r.When = *e.WithdrawnAt
		}
		if e.Pending() {
			v.Pending = append(v.Pending, r)
		} else {
			v.Done = append(v.Done, r)
		}
	}
	s.html.Render(c, status, "console_privacy", "Personal data", v)
}

// requestErasure is POST /console/privacy/erasures (email, reason).
func (s *Pages) requestErasure(c *gin.Context) {
	email, reason := c.PostForm("email"), c.PostForm("reason")
	if _, err := s.desk.RequestErasure(c.Request.Context(), request.Caller(c), email, reason); err != nil {
		if fields := certdesk.ErrorFields(err); len(fields) > 0 {
			s.renderPrivacy(c, http.StatusBadRequest, privacyView{Email: email, Reason: reason, Errors: fields})
			return
		}
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/privacy?done=requested")
}

// approveErasure is POST /console/privacy/erasures/:id/approve.
func (s *Pages) approveErasure(c *gin.Context) {
	if _, err := s.desk.ApproveErasure(c.Request.Context(), request.Caller(c), c.Param("id")); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/privacy?done=erased")
}

// withdrawErasure is POST /console/privacy/erasures/:id/withdraw.
func (s *Pages) withdrawErasure(c *gin.Context) {
	if err := s.desk.WithdrawErasure(c.Request.Context(), request.Caller(c), c.Param("id")); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/privacy?done=withdrawn")
}

// erasureSummary says in words what an erasure reached.
func erasureSummary(r *store.ErasureResult) string {
	if r == nil {
		return ""
	}
	if r.Accounts+r.CertificationProfiles+r.Cases+r.SubjectKeys == 0 {
		return "Nothing was found for this address (already erased, or never known)."
	}
	return fmt.Sprintf("%d accounts, %d certification profiles, %d cases (%d stopped), %d emails, %d keys destroyed",
		r.Accounts, r.CertificationProfiles, r.Cases, r.CancelledCases, r.Emails, r.SubjectKeys)
}
