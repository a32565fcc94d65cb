package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// Principal is who is calling.
type Principal struct {
	Role      certdesk.Role
	AccountID string // a learner's account
	AgentID   string // an agent's or supervisor's id
	Email     string
	Name      string
	// session is the verified session; viaCookie says the browser sent it
	// (state-changing requests then need the CSRF token).
	session   session
	viaCookie bool
}

// Actor names the principal on a case's timeline.
func (p *Principal) Actor() certdesk.Actor {
	if p.Role.Staff() {
		return certdesk.AgentActor(p.AgentID)
	}
	return certdesk.LearnerActor(p.AccountID)
}

const (
	sessionCookie = "certdesk_session"
	sessionTTL    = 12 * time.Hour
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
)

// session is the signed content of a session token.
type session struct {
	Subject string `json:"sub"` // "account:<id>" or "agent:<id>"
	ID      string `json:"sid"` // random; the CSRF token is derived from it
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
}

// sessions signs and verifies session tokens with keys derived from the
// configured secret (one key per purpose).
type sessions struct {
	sign []byte
	csrf []byte
	now  func() time.Time
}

func newSessions(secret string, now func() time.Time) *sessions {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("certdesk " + purpose))
		return m.Sum(nil)
	}
	return &sessions{sign: derive("session"), csrf: derive("csrf"), now: now}
}

var b64 = base64.RawURLEncoding

// issue returns a new session token for a subject.
func (s *sessions) issue(subject string) (string, session) {
	var id [16]byte
	_, _ = rand.Read(id[:])
	now := s.now()
	sess := session{Subject: subject, ID: b64.EncodeToString(id[:]), Issued: now.Unix(), Expires: now.Add(sessionTTL).Unix()}
	payload, _ := json.Marshal(sess)
	body := "s1." + b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(s.mac(body)), sess
}

func (s *sessions) mac(body string) []byte {
	m := hmac.New(sha256.New, s.sign)
	m.Write([]byte(body))
	return m.Sum(nil)
}

var errBadSession = certdesk.Errorf(certdesk.EUNAUTHENTICATED, "the session is not valid or has expired; sign in again")

// parse verifies a token's signature and expiry.
func (s *sessions) parse(token string) (session, error) {
	var sess session
	if len(token) > 1024 || !strings.HasPrefix(token, "s1.") {
		return sess, errBadSession
	}
	i := strings.LastIndexByte(token, '.')
	body, sig := token[:i], token[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(body)) {
		return sess, errBadSession
	}
	payload, err := b64.DecodeString(strings.TrimPrefix(body, "s1."))
	if err != nil || json.Unmarshal(payload, &sess) != nil {
		return sess, errBadSession
	}
	if sess.Expires <= s.now().Unix() {
		return sess, errBadSession
	}
	return sess, nil
}

// csrfToken is the token forms and cookie-authenticated API calls carry.
func (s *sessions) csrfToken(sess session) string {
	m := hmac.New(sha256.New, s.csrf)
	m.Write([]byte(sess.ID))
	return b64.EncodeToString(m.Sum(nil))
}

// identify finds who is calling, from a bearer token or the session cookie,
// and stores the principal for the handlers. A bad bearer token is refused at
// once; a bad cookie is dropped and the caller is anonymous.
func (s *Server) identify(c *gin.Context) {
	token, viaCookie := bearer(c.GetHeader("Authorization")), false
	if token == "" {
		if ck, err := c.Cookie(sessionCookie); err == nil && ck != "" {
			token, viaCookie = ck, true
		}
	}
	if token == "" {
		c.Next()
		return
	}
	p, err := s.principal(c, token)
	if err != nil {
		if !viaCookie || certdesk.ErrorCode(err) != certdesk.EUNAUTHENTICATED {
			fail(c, err)
			return
		}
		s.clearSessionCookie(c)
		c.Next()
		return
	}
	p.viaCookie = viaCookie
	c.Set("principal", p)
	c.Next()
}

func bearer(h string) string {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// principal loads the person behind a token. Roles come from the store on
// every request, so removing an agent takes effect at once.
func (s *Server) principal(c *gin.Context, token string) (*Principal, error) {
	sess, err := s.sessions.parse(token)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	kind, id, _ := strings.Cut(sess.Subject, ":")
	switch kind {
	case "agent":
		a, err := s.store.Agent(ctx, id)
		if errors.Is(err, certdesk.ErrNotFound) {
			return nil, errBadSession
		} else if err != nil {
			return nil, err
		}
		return &Principal{Role: a.Role, AgentID: a.ID, Email: a.Email, Name: a.Name, session: sess}, nil
	case "account":
		a, err := s.store.Account(ctx, id)
		if errors.Is(err, certdesk.ErrNotFound) {
			return nil, errBadSession
		} else if err != nil {
			return nil, err
		}
		return &Principal{Role: certdesk.RoleLearner, AccountID: a.ID, Email: a.Email, Name: a.DisplayName, session: sess}, nil
	}
	return nil, errBadSession
}

// caller returns the principal, or nil for an anonymous caller.
func caller(c *gin.Context) *Principal {
	if p, ok := c.Get("principal"); ok {
		return p.(*Principal)
	}
	return nil
}

func callerOf(c *gin.Context) string {
	if p := caller(c); p != nil {
		return string(p.Actor())
	}
	return "anonymous"
}

// require lets through callers with one of the roles (any signed-in caller
// when none is given): anonymous callers get 401, others 403. A browser
// session changing state must also carry the CSRF token.
func (s *Server) require(roles ...certdesk.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.allowed(c, roles); err != nil {
			fail(c, err)
			return
		}
		c.Next()
	}
}

// requirePage is require for pages and their forms: an anonymous browser is
// sent to sign in, a refusal is an error page.
func (s *Server) requirePage(roles ...certdesk.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.signInFirst(c) {
			c.Abort()
			return
		}
		if err := s.allowed(c, roles); err != nil {
			s.errorPage(c, err)
			return
		}
		c.Next()
	}
}

func (s *Server) allowed(c *gin.Context, roles []certdesk.Role) error {
	p := caller(c)
	if p == nil {
		return certdesk.Errorf(certdesk.EUNAUTHENTICATED, "sign in to use this")
	}
	if len(roles) > 0 && !hasRole(p.Role, roles) {
		if hasRole(certdesk.RoleAgent, roles) {
			return certdesk.Errorf(certdesk.EFORBIDDEN, "this is for support agents")
		}
		return certdesk.Errorf(certdesk.EFORBIDDEN, "this needs the %s role", joinRoles(roles))
	}
	if p.viaCookie && unsafeMethod(c.Request.Method) && !s.validCSRF(c, p) {
		return certdesk.Errorf(certdesk.EFORBIDDEN, "the form is out of date (missing or wrong CSRF token); reload the page and try again")
	}
	return nil
}

func (s *Server) validCSRF(c *gin.Context, p *Principal) bool {
	got := c.GetHeader(csrfHeader)
	if got == "" {
		got = c.PostForm(csrfField)
	}
	want := s.sessions.csrfToken(p.session)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func hasRole(r certdesk.Role, roles []certdesk.Role) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

func joinRoles(roles []certdesk.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// signIn starts a session for a subject: the cookie for browsers, and the
// token for API clients that send it as a bearer token.
func (s *Server) signIn(c *gin.Context, subject string) (string, session) {
	token, sess := s.sessions.issue(subject)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
	return token, sess
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}
