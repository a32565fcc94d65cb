package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// limit is a rate limit: at most Max requests in each Window for one
// subject (a client address, a contact email…). Counters live in the
// store, so every api process counts against the same limit.
type limit struct {
	Name   string
	Max    int
	Window time.Duration // at most a day: the daily sweep prunes older counters
}

// The limits of the public, abusable endpoints, per client address.
var (
	linkPerClient    = limit{Name: "link-client", Max: 30, Window: time.Minute}
	signInPerClient  = limit{Name: "sign-in-client", Max: 20, Window: time.Minute}
	webhookPerClient = limit{Name: "webhook-client", Max: 600, Window: time.Minute}
)

// limitClient applies a per-client limit to a route (JSON answers).
func (s *Server) limitClient(l limit) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.allow(c, l, clientAddr(c)) {
			c.Next()
		}
	}
}

// allow counts a request of a subject against a limit. Over the limit, it
// answers 429 with Retry-After and returns false.
func (s *Server) allow(c *gin.Context, l limit, subject string) bool {
	if err := s.limited(c, l, subject); err != nil {
		fail(c, err)
		return false
	}
	return true
}

// limited counts a request of a subject against a limit; over it, it sets
// Retry-After and returns ERATELIMITED (pages render it themselves).
// Subjects are hashed with a key derived from the secret before they are
// stored: the table holds no addresses.
func (s *Server) limited(c *gin.Context, l limit, subject string) error {
	m := hmac.New(sha256.New, []byte(s.cfg.Secret))
	m.Write([]byte("certdesk rate limit\x00" + l.Name + "\x00" + subject))
	bucket := l.Name + ":" + hex.EncodeToString(m.Sum(nil)[:16])
	ok, retry, err := s.store.Allow(c.Request.Context(), bucket, l.Max, l.Window)
	if err != nil {
		return err
	}
	if !ok {
		secs := max(1, int(math.Ceil(retry.Seconds())))
		c.Header("Retry-After", strconv.Itoa(secs))
		return certdesk.Errorf(certdesk.ERATELIMITED, "too many requests; try again in %s", roughly(time.Duration(secs)*time.Second))
	}
	return nil
}

// roughly says a time in words: "40 seconds", "12 minutes", "24 hours".
func roughly(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return strconv.Itoa(int(math.Ceil(d.Seconds()))) + " seconds"
	case d < 2*time.Hour:
		return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
	}
	return strconv.Itoa(int(math.Ceil(d.Hours()))) + " hours"
}

// clientAddr is the address a request comes from, for per-client limits:
// the peer's, or X-Forwarded-For's behind the proxies CERTDESK_TRUSTED_PROXIES
// names; an IPv6 client by its /64, which one machine usually holds whole.
func clientAddr(c *gin.Context) string {
	ip := net.ParseIP(c.ClientIP())
	switch {
	case ip == nil:
		return c.ClientIP()
	case ip.To4() == nil:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
