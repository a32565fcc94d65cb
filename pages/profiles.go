package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// The desk's profile lookup: find a certification profile by MCID, name or
// email, and open it with its certifications, owner, history and cases.

type profilesView struct {
	Q        string
	Profiles []certdesk.CertificationProfile
}

// profilesPage is GET /console/profiles?q=
func (s *Pages) profilesPage(c *gin.Context) {
	v := profilesView{Q: c.Query("q")}
	var err error
	if v.Profiles, err = s.store.FindProfiles(c.Request.Context(), v.Q); err != nil {
		s.html.Error(c, err)
		return
	}
	if len(v.Profiles) == 1 && v.Profiles[0].MCID == v.Q {
		c.Redirect(http.StatusSeeOther, "/console/profiles/"+v.Profiles[0].ID)
		return
	}
	s.html.Render(c, http.StatusOK, "console_profiles", "Profiles", v)
}

type profileView struct {
	Profile        certdesk.CertificationProfile
	Owner          *certdesk.Account
	MergedInto     *certdesk.CertificationProfile
	Certifications []certdesk.Certification
	Transcript     []certdesk.TranscriptEntry
	History        []store.ProfileChange
	Cases          []certdesk.Case
}

// profilePage is GET /console/profiles/:id
func (s *Pages) profilePage(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.store.CertificationProfile(ctx, c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := profileView{Profile: p}
	if p.OwnerAccountID != nil {
		if a, err := s.store.Account(ctx, *p.OwnerAccountID); err == nil {
			v.Owner = &a
		}
	}
	if p.MergedIntoID != nil {
		if into, err := s.store.CertificationProfile(ctx, *p.MergedIntoID); err == nil {
			v.MergedInto = &into
		}
	}
	if v.Certifications, err = s.store.Certifications(ctx, p.ID); err == nil {
		if v.Transcript, err = s.store.TranscriptEntries(ctx, p.ID); err == nil {
			if v.History, err = s.store.ProfileHistory(ctx, p.ID); err == nil {
				v.Cases, err = s.store.CasesOfProfile(ctx, p)
			}
		}
	}
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "console_profile", "MCID "+p.MCID, v)
}
