package auth

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// Dev mode only: sign in as anyone of the demo world, no password. These
// routes are not registered outside `certdesk dev`.

type devLoginView struct {
	People []store.DemoPerson
	Error  string
}

func (s *Auth) devLoginPage(c *gin.Context) {
	s.html.Render(c, http.StatusOK, "dev_login", "Sign in (dev)", devLoginView{People: store.DemoPeople})
}

type devLoginRequest struct {
	Email string `json:"email" form:"email"`
}

// devLogin signs in as the person with this email: an agent or supervisor
// first, else a learner's account. A JSON request gets {"token": …} to use
// as a bearer token; a form is redirected to where the person works.
func (s *Auth) devLogin(c *gin.Context) {
	var req devLoginRequest
	wantsJSON := c.ContentType() == "application/json"
	if wantsJSON {
		if err := request.DecodeJSON(c, &req); err != nil {
			respond.Fail(c, err)
			return
		}
	} else {
		req.Email = c.PostForm("email")
	}
	ctx := c.Request.Context()
	email := certdesk.NormalizeEmail(req.Email)
	var (
		subject string
		role    certdesk.Role
	)
	refuse := func(err error) {
		if wantsJSON {
			respond.Fail(c, err)
		} else {
			s.html.Error(c, err)
		}
	}
	if a, err := s.store.AgentByEmail(ctx, email); err == nil {
		if !a.Active() {
			refuse(errRoleRemoved)
			return
		}
		subject, role = "agent:"+a.ID, a.Role
	} else if !errors.Is(err, certdesk.ErrNotFound) {
		refuse(err)
		return
	} else if acct, err := s.store.AccountByEmail(ctx, email); err == nil {
		if err := signInRefusal(acct); err != nil {
			refuse(err)
			return
		}
		subject, role = "account:"+acct.ID, certdesk.RoleLearner
	} else if !errors.Is(err, certdesk.ErrNotFound) {
		refuse(err)
		return
	}
	if subject == "" {
		err := certdesk.Invalid(map[string]string{"email": "no demo person or account has this email"})
		if wantsJSON {
			respond.Fail(c, err)
			return
		}
		s.html.Render(c, http.StatusBadRequest, "dev_login", "Sign in (dev)",
			devLoginView{People: store.DemoPeople, Error: "No demo person or account has the email " + email + "."})
		return
	}
	token, err := s.signIn(c, subject, "dev")
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if wantsJSON {
		c.JSON(http.StatusOK, gin.H{"token": token, "role": role})
		return
	}
	if role.Staff() {
		c.Redirect(http.StatusSeeOther, "/console")
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal")
}
