package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/converter"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// The codec server the Temporal Web UI calls to show certdesk's encrypted
// payloads (names, emails) to the people allowed to see them: agents and
// supervisors, signed in (the UI sends the session cookie with "include
// cross-origin credentials") or with a personal access token. Decoding
// changes nothing, so it needs no CSRF token; only the configured UI origin
// may read the answers (CORS).

func (s *API) codecHandler() gin.HandlerFunc {
	h := converter.NewPayloadCodecHTTPHandler(s.codec)
	return func(c *gin.Context) {
		if s.codec == nil {
			respond.Fail(c, certdesk.Errorf(certdesk.ENOTFOUND, "no payload codec is configured"))
			return
		}
		s.codecCORS(c)
		p := request.Caller(c)
		switch {
		case p == nil:
			respond.Fail(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "sign in to certdesk to see case data in the Temporal Web UI"))
			return
		case !p.Role.Staff():
			respond.Fail(c, certdesk.Errorf(certdesk.EFORBIDDEN, "only support agents see case data in the Temporal Web UI"))
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// codecPreflight answers the browser's CORS preflight for the UI.
func (s *API) codecPreflight(c *gin.Context) {
	s.codecCORS(c)
	c.Status(http.StatusNoContent)
}

func (s *API) codecCORS(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" || s.cfg.TemporalUIURL == "" || !strings.EqualFold(origin, uiOrigin(s.cfg.TemporalUIURL)) {
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace")
	h.Set("Vary", "Origin")
}

// uiOrigin is the scheme://host[:port] of a URL.
func uiOrigin(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}
