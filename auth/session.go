package auth

import (
	"context"
	"crypto/hmac"
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
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// Who is calling, in one place: a session (a signed token naming a
// server-side session row, sent as the cookie or as a bearer token), an
// agent's personal access token (bearer, "cdp_…") or an integration token
// (bearer, "cdi_…", see integration.go). Roles come from the store
// on every request, so removing an agent or signing out takes effect at once.

// signedIn is a caller and how they proved it: the session (empty for an
// access token), and whether the browser sent it as the cookie (then a
// state-changing request needs the CSRF token).
type signedIn struct {
	*certdesk.Principal
	sessionID string
	viaCookie bool
}

const sessionKey = "certdesk.session"

// sessionOf is how the caller proved who they are (zero when anonymous).
func sessionOf(c *gin.Context) signedIn {
	if si, ok := c.Get(sessionKey); ok {
		return si.(signedIn)
	}
	return signedIn{}
}

const (
	sessionCookie = "certdesk_session"
	sessionTTL    = 12 * time.Hour
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
	// patPrefix starts every personal access token.
	patPrefix = "cdp_"
)

// sessionClaims is the signed content of a session token.
type sessionClaims struct {
	ID      string `json:"sid"`
	Subject string `json:"sub"` // "account:<id>" or "agent:<id>"
	Expires int64  `json:"exp"`
}

// signer signs session tokens and derives CSRF tokens, with keys derived
// from the configured secret (one key per purpose).
type signer struct {
	sign []byte
	csrf []byte
	now  func() time.Time
}

func newSigner(secret string, now func() time.Time) *signer {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("certdesk " + purpose))
		return m.Sum(nil)
	}
	return &signer{sign: derive("session"), csrf: derive("csrf"), now: now}
}

var b64 = base64.RawURLEncoding

func (s *signer) token(cl sessionClaims) string {
	payload, _ := json.Marshal(cl)
	body := "s1." + b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(s.mac(body))
}

func (s *signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.sign)
	m.Write([]byte(body))
	return m.Sum(nil)
}

var errBadSession = certdesk.Errorf(certdesk.EUNAUTHENTICATED, "the session is not valid, has expired or was signed out; sign in again")

// parse verifies a token's signature and expiry (the session row is checked
// by the caller).
func (s *signer) parse(token string) (sessionClaims, error) {
	var cl sessionClaims
	if len(token) > 1024 || !strings.HasPrefix(token, "s1.") {
		return cl, errBadSession
	}
	i := strings.LastIndexByte(token, '.')
	body, sig := token[:i], token[i+1:]
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(body)) {
		return cl, errBadSession
	}
	payload, err := b64.DecodeString(strings.TrimPrefix(body, "s1."))
	if err != nil || json.Unmarshal(payload, &cl) != nil || cl.ID == "" {
		return cl, errBadSession
	}
	if cl.Expires <= s.now().Unix() {
		return cl, errBadSession
	}
	return cl, nil
}

// csrfToken is the token forms and cookie-authenticated API calls carry.
func (s *signer) csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, s.csrf)
	m.Write([]byte(sessionID))
	return b64.EncodeToString(m.Sum(nil))
}

// Identify finds who is calling and stores the principal for the handlers.
// A bad bearer token is refused at once; a bad cookie is dropped and the
// caller is anonymous.
func (s *Auth) Identify(c *gin.Context) {
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
	p, err := s.principal(c.Request.Context(), token)
	if err == nil && p.Role == certdesk.RoleIntegration {
		err = confineIntegration(c, viaCookie)
	}
	if err != nil {
		// A browser whose session ended (or whose account became
		// inactive) continues signed out: signing in again says why.
		var inactive inactiveAccount
		if !viaCookie || certdesk.ErrorCode(err) != certdesk.EUNAUTHENTICATED && !errors.As(err, &inactive) {
			respond.Fail(c, err)
			return
		}
		s.clearSessionCookie(c)
		c.Next()
		return
	}
	p.viaCookie = viaCookie
	p.ClientAddr = c.ClientIP()
	csrf := ""
	if viaCookie || p.sessionID != "" {
		csrf = s.signer.csrfToken(p.sessionID)
	}
	c.Set(sessionKey, *p)
	request.SetCaller(c, p.Principal, csrf)
	c.Next()
}

func bearer(h string) string {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// principal loads the person behind a session token or an access token,
// or the integration behind an integration token.
func (s *Auth) principal(ctx context.Context, token string) (*signedIn, error) {
	if raw, ok := strings.CutPrefix(token, integrationPrefix); ok {
		return s.integrationPrincipal(ctx, raw)
	}
	if raw, ok := strings.CutPrefix(token, patPrefix); ok {
		hash, ok := certdesk.HashToken(raw)
		if !ok {
			return nil, errBadSession
		}
		pat, err := s.store.LiveAccessToken(ctx, hash)
		if err != nil {
			return nil, unauthenticatedIfMissing(err)
		}
		return s.subjectPrincipal(ctx, "agent:"+pat.AgentID, "")
	}
	cl, err := s.signer.parse(token)
	if err != nil {
		return nil, err
	}
	h, err := s.store.SessionHolder(ctx, cl.ID)
	if err != nil {
		return nil, unauthenticatedIfMissing(err)
	}
	if h.Subject != cl.Subject {
		return nil, errBadSession
	}
	if h.Inactive {
		return nil, errInactive(h.Email)
	}
	return &signedIn{Principal: &certdesk.Principal{Role: h.Role, AgentID: h.AgentID, AccountID: h.AccountID, Email: h.Email, Name: h.Name},
		sessionID: h.SessionID}, nil
}

func (s *Auth) subjectPrincipal(ctx context.Context, subject, sessionID string) (*signedIn, error) {
	kind, id, _ := strings.Cut(subject, ":")
	switch kind {
	case "agent":
		a, err := s.store.Agent(ctx, id)
		if err != nil {
			return nil, unauthenticatedIfMissing(err)
		}
		if !a.Active() {
			return nil, errBadSession // disabled: their tokens stop at once
		}
		return &signedIn{Principal: &certdesk.Principal{Role: a.Role, AgentID: a.ID, Email: a.Email, Name: a.Name}, sessionID: sessionID}, nil
	case "account":
		a, err := s.store.Account(ctx, id)
		if err != nil {
			return nil, unauthenticatedIfMissing(err)
		}
		if err := signInRefusal(a); err != nil {
			return nil, err
		}
		return &signedIn{Principal: &certdesk.Principal{Role: certdesk.RoleLearner, AccountID: a.ID, Email: a.Email, Name: a.DisplayName},
			sessionID: sessionID}, nil
	}
	return nil, errBadSession
}

func unauthenticatedIfMissing(err error) error {
	if errors.Is(err, certdesk.ErrNotFound) {
		return errBadSession
	}
	return err
}

// Require lets through callers with one of the roles (any signed-in caller
// when none is given): anonymous callers get 401, others 403. A browser
// session changing state must also carry the CSRF token.
func (s *Auth) Require(roles ...certdesk.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.allowed(c, roles); err != nil {
			respond.Fail(c, err)
			return
		}
		c.Next()
	}
}

// RequirePage is Require for pages and their forms: an anonymous browser is
// sent to sign in, a refusal is an error page.
func (s *Auth) RequirePage(roles ...certdesk.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.SignInFirst(c) {
			c.Abort()
			return
		}
		if err := s.allowed(c, roles); err != nil {
			s.html.Error(c, err)
			return
		}
		c.Next()
	}
}

func (s *Auth) allowed(c *gin.Context, roles []certdesk.Role) error {
	p := sessionOf(c)
	if p.Principal == nil {
		return certdesk.Errorf(certdesk.EUNAUTHENTICATED, "sign in to use this")
	}
	if p.Role == certdesk.RoleIntegration {
		return errIntegrationAPI // never a person, whatever the route asks
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

func (s *Auth) validCSRF(c *gin.Context, p signedIn) bool {
	got := c.GetHeader(csrfHeader)
	if got == "" {
		got = c.PostForm(csrfField)
	}
	want := s.signer.csrfToken(p.sessionID)
	return got != "" && p.sessionID != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
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

// signIn starts a session for a subject: a session row, the cookie for
// browsers, and the token for API clients that send it as a bearer token.
// The sign-in is audited.
func (s *Auth) signIn(c *gin.Context, subject, method string) (string, error) {
	ctx := c.Request.Context()
	ss := &store.Session{ID: certdesk.NewID(), Subject: subject, Method: method, ClientAddr: c.ClientIP(),
		ExpiresAt: s.now().Add(sessionTTL)}
	if err := s.store.CreateSession(ctx, ss); err != nil {
		return "", err
	}
	if id, ok := strings.CutPrefix(subject, "agent:"); ok {
		if err := s.store.StaffSignedIn(ctx, id); err != nil {
			return "", err
		}
	}
	token := s.signer.token(sessionClaims{ID: ss.ID, Subject: subject, Expires: ss.ExpiresAt.Unix()})
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
	kind, id, _ := strings.Cut(subject, ":")
	actor := certdesk.LearnerActor(id)
	if kind == "agent" {
		actor = certdesk.AgentActor(id)
	}
	s.desk.Audit(ctx, actor, "sign_in", "", c.ClientIP(), map[string]string{"method": method})
	return token, nil
}

func (s *Auth) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// logout ends the caller's session (the cookie's or the bearer's): the
// token stops working everywhere.
func (s *Auth) logout(c *gin.Context) {
	if p := sessionOf(c); p.Principal != nil && p.sessionID != "" {
		if p.viaCookie && !s.validCSRF(c, p) {
			s.html.Error(c, certdesk.Errorf(certdesk.EFORBIDDEN, "the sign-out form is out of date; reload the page and try again"))
			return
		}
		if err := s.store.RevokeSession(c.Request.Context(), p.sessionID); err != nil {
			s.html.Error(c, err)
			return
		}
		s.desk.Audit(c.Request.Context(), p.Actor(), "sign_out", "", p.ClientAddr, nil)
	}
	s.clearSessionCookie(c)
	if c.ContentType() == "application/json" || bearer(c.GetHeader("Authorization")) != "" {
		c.Status(http.StatusNoContent)
		return
	}
	c.Redirect(http.StatusSeeOther, "/")
}

// anonCookie binds an anonymous visitor's forms (the public recovery form)
// to their browser: the form's CSRF token is derived from it.
const anonCookie = "certdesk_form"

// FormToken is the CSRF token of a page's forms: the session's, or for an
// anonymous visitor one bound to a cookie it sets.
func (s *Auth) FormToken(c *gin.Context) string {
	if p := sessionOf(c); p.sessionID != "" {
		return s.signer.csrfToken(p.sessionID)
	}
	id, err := c.Cookie(anonCookie)
	if err != nil || len(id) < 20 || len(id) > 64 {
		id = randomString()
		http.SetCookie(c.Writer, &http.Cookie{Name: anonCookie, Value: id, Path: "/", MaxAge: 86400,
			HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteStrictMode})
	}
	return s.signer.csrfToken("anon:" + id)
}

// ValidForm checks a form's CSRF token, for a signed-in or an anonymous
// visitor.
func (s *Auth) ValidForm(c *gin.Context) bool {
	if p := sessionOf(c); p.sessionID != "" {
		return s.validCSRF(c, p)
	}
	id, err := c.Cookie(anonCookie)
	got := c.PostForm(csrfField)
	return err == nil && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.signer.csrfToken("anon:"+id))) == 1
}

// ViaCookie reports whether the caller signed in with the browser's cookie
// (then state-changing requests carry the CSRF token).
func ViaCookie(c *gin.Context) bool { return sessionOf(c).viaCookie }
