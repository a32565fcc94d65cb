package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
)

// The staff page: supervisors see who works the desk, where each role comes
// from, the last sign-in, and disable an agent.

type staffRow struct {
	Agent      certdesk.Agent
	Status     string
	LastSignIn string
	CanDisable bool
}

type staffView struct {
	Members []staffRow
	Notice  string
}

// staffPage is GET /console/staff.
func (s *Pages) staffPage(c *gin.Context) {
	members, err := s.desk.Staff(c.Request.Context(), request.Caller(c))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := staffView{}
	if c.Query("done") == "disabled" {
		v.Notice = "The agent is disabled: their sessions ended and their cases went back to the queue."
	}
	for _, a := range members {
		r := staffRow{Agent: a, Status: "active", LastSignIn: "never", CanDisable: a.Active() && a.Role == certdesk.RoleAgent}
		if !a.Active() {
			r.Status = "disabled"
			if a.DisabledReason == certdesk.StaffRoleRemoved {
				r.Status = "disabled: role removed by the identity provider"
			}
		}
		if a.LastSignInAt != nil {
			r.LastSignIn = a.LastSignInAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		v.Members = append(v.Members, r)
	}
	s.html.Render(c, http.StatusOK, "console_staff", "Staff", v)
}

// disableStaff is POST /console/staff/:id/disable.
func (s *Pages) disableStaff(c *gin.Context) {
	if _, err := s.desk.DisableAgent(c.Request.Context(), request.Caller(c), c.Param("id")); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/staff?done=disabled")
}
