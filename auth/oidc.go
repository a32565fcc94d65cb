package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/certdesk/certdesk"
)

// Production sign-in with OpenID Connect: the authorization-code flow with
// PKCE (Microsoft Entra ID is the expected issuer). Who a verified ID token
// is — staff by its app roles, a learner created at the first sign-in — is
// the sign-in policy of identity.go.

const (
	oidcCookie = "certdesk_oidc"
	oidcTTL    = 10 * time.Minute
)

// oidcFlow is what the sign-in remembers between the redirect to the
// provider and the callback, in a signed cookie.
type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
	// AddFor, when set, is the signed-in learner's account: this sign-in
	// proves they own another account, which is added to their learning
	// profile (the learning site's "Add account") instead of signing in.
	AddFor string `json:"a,omitempty"`
}

type oidcClient struct {
	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, so the API starts while the issuer is down
}

func (s *Auth) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	if s.oidc.provider != nil {
		return s.oidc.provider, nil
	}
	if tmpl, ok := s.cfg.OIDC.MultiTenant(); ok {
		// Entra ID's common endpoints publish a templated issuer; each
		// token names its tenant's, checked in verifyIssuer.
		ctx = oidc.InsecureIssuerURLContext(ctx, tmpl)
	}
	p, err := oidc.NewProvider(ctx, s.cfg.OIDC.Issuer)
	if err != nil {
		return nil, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the sign-in provider does not answer; try again in a minute", Err: err}
	}
	s.oidc.provider = p
	return p, nil
}

func (s *Auth) oauthConfig(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.cfg.OIDC.ClientID, ClientSecret: s.cfg.OIDC.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: s.cfg.PublicURL + "/auth/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// signInPage is GET /auth/login: it sends the browser to the provider.
func (s *Auth) signInPage(c *gin.Context) {
	if !s.cfg.OIDC.Enabled() {
		s.html.Error(c, certdesk.Errorf(certdesk.ENOTFOUND, "Sign-in is not configured on this certdesk (CERTDESK_OIDC_ISSUER)."))
		return
	}
	p, err := s.oidcProvider(c.Request.Context())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	f := oidcFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(c.Query("next")), Expires: s.now().Add(oidcTTL).Unix()}
	if c.Query("add_account") == "1" {
		p := sessionOf(c).Principal
		if p == nil || p.Role != certdesk.RoleLearner {
			s.html.Error(c, certdesk.Errorf(certdesk.EFORBIDDEN, "Sign in to your learning profile first, then add the account."))
			return
		}
		f.AddFor, f.Next = p.AccountID, "/portal?done=account"
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: s.signer.sealJSON("oidc", f), Path: "/auth",
		MaxAge: int(oidcTTL.Seconds()), HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusFound, s.oauthConfig(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)))
}

// signInCallback is GET /auth/callback: it checks the state, exchanges the
// code (with the PKCE verifier), verifies the ID token and its nonce, finds
// the person and starts a session.
func (s *Auth) signInCallback(c *gin.Context) {
	ctx := c.Request.Context()
	var f oidcFlow
	ck, err := c.Cookie(oidcCookie)
	if err != nil || !s.signer.openJSON("oidc", ck, &f) || f.Expires < s.now().Unix() {
		s.html.Error(c, certdesk.Errorf(certdesk.EINVALID, "The sign-in took too long or came from another browser. Please sign in again."))
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: "", Path: "/auth", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies})
	if e := c.Query("error"); e != "" {
		// The provider's words stay in the log: the page says one thing.
		s.html.Error(c, &certdesk.Error{Code: certdesk.EUNAUTHENTICATED, Message: "The sign-in provider did not sign you in. Please try again.",
			Err: fmt.Errorf("oidc: provider error %q", clipText(e, 80))})
		return
	}
	if !subtleEq(c.Query("state"), f.State) {
		s.html.Error(c, certdesk.Errorf(certdesk.EINVALID, "The sign-in answer does not match this browser's sign-in. Please sign in again."))
		return
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tok, err := s.oauthConfig(p).Exchange(ctx, c.Query("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.html.Error(c, &certdesk.Error{Code: certdesk.EUNAUTHENTICATED, Message: "The sign-in could not be completed. Please sign in again.", Err: err})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	_, multi := s.cfg.OIDC.MultiTenant()
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID, Now: s.now, SkipIssuerCheck: multi}).Verify(ctx, raw)
	if err == nil {
		err = s.verifyIssuer(idt)
	}
	if err != nil || !subtleEq(idt.Nonce, f.Nonce) {
		s.html.Error(c, &certdesk.Error{Code: certdesk.EUNAUTHENTICATED, Message: "The sign-in provider's answer did not verify. Please sign in again.", Err: err})
		return
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		s.html.Error(c, &certdesk.Error{Code: certdesk.EUNAUTHENTICATED, Message: "The sign-in provider's answer did not verify. Please sign in again.", Err: err})
		return
	}
	var all map[string]any
	_ = idt.Claims(&all)
	id := signInIdentity{Subject: idt.Issuer + "|" + idt.Subject, Name: clipText(strings.TrimSpace(claims.Name), 200),
		Kind: s.accountKind(claims.TenantID), Role: s.staffRole(all)}
	if claims.EmailVerified != nil && *claims.EmailVerified || s.cfg.OIDC.TrustEmail {
		// Matched only in its canonical form, and never when Unicode
		// would read it as another address.
		if id.Email, err = certdesk.ParseEmail(claims.Email); err != nil {
			s.html.Error(c, &certdesk.Error{Code: certdesk.EFORBIDDEN, Err: err,
				Message: "The email address of this sign-in cannot be used with certdesk: it contains characters that can stand for others. Sign in with another account, or contact support."})
			return
		}
	}
	if f.AddFor != "" {
		s.addProvenAccount(c, f, id)
		return
	}
	holder, err := s.matchPerson(ctx, id)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	if _, err := s.signIn(c, holder, "oidc"); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, f.Next)
}

// verifyIssuer checks, for a multi-tenant issuer, that the token's issuer is
// its own tenant's (the library could not: it skipped the check). A
// single-tenant issuer was checked by the library.
func (s *Auth) verifyIssuer(idt *oidc.IDToken) error {
	tmpl, ok := s.cfg.OIDC.MultiTenant()
	if !ok {
		return nil
	}
	var c struct {
		TenantID string `json:"tid"`
	}
	if err := idt.Claims(&c); err != nil || c.TenantID == "" || strings.ContainsAny(c.TenantID, "/?#") ||
		idt.Issuer != strings.Replace(tmpl, "{tenantid}", c.TenantID, 1) {
		return fmt.Errorf("oidc: issuer %q does not match the token's tenant %q", idt.Issuer, c.TenantID)
	}
	return nil
}

// addProvenAccount adds the account the learner just proved they own (by
// signing in with it) to their learning profile, and tells their open
// connect case. The learner stays signed in as before.
func (s *Auth) addProvenAccount(c *gin.Context, f oidcFlow, id signInIdentity) {
	p := sessionOf(c).Principal
	if p == nil || p.AccountID != f.AddFor {
		s.html.Error(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "Your learning profile's session ended meanwhile. Sign in again, then add the account."))
		return
	}
	if id.Email == "" {
		s.html.Error(c, certdesk.Errorf(certdesk.EFORBIDDEN, "The sign-in provider did not confirm this account's email address, so it cannot be added."))
		return
	}
	ctx := c.Request.Context()
	acct, err := s.store.Account(ctx, p.AccountID)
	if err == nil && acct.LearningProfileID == nil {
		err = certdesk.Errorf(certdesk.ECONFLICT, "you have no learning profile to add the account to")
	}
	if err == nil {
		_, _, err = s.desk.AddAccount(ctx, p, *acct.LearningProfileID, id.Email, id.Kind, id.Subject)
	}
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.desk.Audit(ctx, p.Actor(), "add_account", "", c.ClientIP(), map[string]string{"email": id.Email, "kind": id.Kind})
	c.Redirect(http.StatusSeeOther, f.Next)
}

func randomString() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return b64.EncodeToString(b[:])
}

func subtleEq(a, b string) bool { return a != "" && hmac.Equal([]byte(a), []byte(b)) }

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sealJSON signs a small value for a cookie (purpose-bound).
func (s *signer) sealJSON(purpose string, v any) string {
	payload, _ := json.Marshal(v)
	body := b64.EncodeToString(payload)
	m := hmac.New(sha256.New, s.sign)
	m.Write([]byte(purpose + "." + body))
	return body + "." + b64.EncodeToString(m.Sum(nil))
}

// openJSON verifies and decodes a sealed value.
func (s *signer) openJSON(purpose, sealed string, v any) bool {
	body, sig, ok := strings.Cut(sealed, ".")
	if !ok {
		return false
	}
	got, err := b64.DecodeString(sig)
	m := hmac.New(sha256.New, s.sign)
	m.Write([]byte(purpose + "." + body))
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return false
	}
	payload, err := b64.DecodeString(body)
	return err == nil && json.Unmarshal(payload, v) == nil
}
