package api

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/web"
)

// pageData fills the layout's part of a page.
func (s *Server) pageData(c *gin.Context, title string, data any) web.Page {
	page := web.Page{Title: title, Dev: s.dev, Data: data}
	if p := caller(c); p != nil {
		page.Signed = &web.Person{Name: p.Name, Email: p.Email, Role: string(p.Role)}
		page.CSRFToken = s.signer.csrfToken(p.sessionID)
	}
	return page
}

// signInFirst sends an anonymous browser to sign in.
func (s *Server) signInFirst(c *gin.Context) bool {
	if caller(c) != nil {
		return false
	}
	switch {
	case s.dev:
		c.Redirect(http.StatusSeeOther, "/dev/login")
	case s.cfg.OIDC.Enabled():
		c.Redirect(http.StatusSeeOther, "/auth/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	default:
		s.errorPage(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "Sign in to use this. (Sign-in is not configured on this certdesk: CERTDESK_OIDC_ISSUER.)"))
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
