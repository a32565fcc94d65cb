// Package oidctest is a small OpenID provider for tests, shaped like
// Microsoft Entra ID: discovery, a JWKS with a real RSA key, an authorize
// endpoint that signs in whoever the test names (checking PKCE later), a
// token endpoint that issues signed ID tokens with the claims the test gives
// (tid, roles, …), and a browser that runs certdesk's sign-in through it.
//
// It is a single-tenant issuer at URL, and Entra ID's multi-tenant one at
// Common(): discovery names the templated issuer …/{tenantid}/v2.0, and each
// token's issuer is its own tenant's (its tid claim).
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The client certdesk is registered as (CERTDESK_OIDC_CLIENT_ID and
// CERTDESK_OIDC_CLIENT_SECRET).
const (
	ClientID     = "certdesk"
	ClientSecret = "s3cret"
)

// PersonalTenant is Entra ID's tenant of personal Microsoft accounts.
const PersonalTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Issuer is the provider. Its URL is CERTDESK_OIDC_ISSUER.
type Issuer struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	next     map[string]any // the claims of the next sign-in
	codes    map[string]pending
	otherKey bool // sign ID tokens with another key
	badNonce bool
}

type pending struct {
	claims    map[string]any
	challenge string
	nonce     string
	client    string
}

// New starts a provider, closed when the test ends.
func New(tb testing.TB) *Issuer {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	iss := &Issuer{key: key, codes: map[string]pending{}}
	mux := http.NewServeMux()
	iss.Server = httptest.NewServer(mux)
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	for _, prefix := range []string{"", commonPath} {
		mux.HandleFunc(prefix+"/.well-known/openid-configuration", iss.discovery)
		mux.HandleFunc(prefix+"/authorize", iss.authorize)
		mux.HandleFunc(prefix+"/token", iss.token)
	}
	tb.Cleanup(iss.Close)
	return iss
}

// commonPath is where Entra ID's multi-tenant issuer lives.
const commonPath = "/common/v2.0"

// Common is the multi-tenant issuer's URL (CERTDESK_OIDC_ISSUER), like
// https://login.microsoftonline.com/common/v2.0.
func (i *Issuer) Common() string { return i.URL + commonPath }

// issuer is who the provider says it is on a path: itself, or on the
// multi-tenant endpoints the tenant's issuer (tid "{tenantid}" in
// discovery).
func (i *Issuer) issuer(path, tid string) string {
	if strings.HasPrefix(path, commonPath+"/") {
		return i.URL + "/" + tid + "/v2.0"
	}
	return i.URL
}

// Next sets who the next sign-in is: the ID token's claims besides iss,
// aud, iat, exp and nonce.
func (i *Issuer) Next(claims map[string]any) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.next = claims
}

// SignWithOtherKey makes the provider sign ID tokens with a key its JWKS
// does not publish (on) or with its own again (off).
func (i *Issuer) SignWithOtherKey(on bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.otherKey = on
}

// WrongNonce makes the provider put another nonce in its ID tokens.
func (i *Issuer) WrongNonce(on bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.badNonce = on
}

func (i *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	at := i.URL + strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer": i.issuer(r.URL.Path, "{tenantid}"), "authorization_endpoint": at + "/authorize", "token_endpoint": at + "/token",
		"jwks_uri": i.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
	})
}

func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE required", http.StatusBadRequest)
		return
	}
	code := randomCode()
	i.mu.Lock()
	i.codes[code] = pending{claims: i.next, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), client: q.Get("client_id")}
	i.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	code := r.PostForm.Get("code")
	i.mu.Lock()
	p, ok := i.codes[code]
	delete(i.codes, code)
	otherKey, badNonce := i.otherKey, i.badNonce
	i.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	user, pass, _ := r.BasicAuth()
	if user == "" {
		user, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge || user != ClientID || pass != ClientSecret {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	tid, _ := p.claims["tid"].(string)
	claims := map[string]any{"iss": i.issuer(r.URL.Path, tid), "aud": p.client, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": p.nonce}
	if badNonce {
		claims["nonce"] = "something-else"
	}
	for k, v := range p.claims {
		claims[k] = v
	}
	key := i.key
	if otherKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	payload, _ := json.Marshal(claims)
	jws, _ := signer.Sign(payload)
	idt, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
}

func randomCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Browser is a browser for certdesk at base: it keeps cookies and follows
// redirects (to the provider and back) until it is on one of certdesk's
// pages other than the callback. rt is its transport (nil: the default).
func Browser(base string, rt http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), base) && req.URL.Path != "/auth/callback" {
			return http.ErrUseLastResponse // stop once back on certdesk's pages
		}
		return nil
	}}
}

// SignIn signs a new browser in to certdesk at base as claims say, and
// returns the callback's answer and the browser (with its cookies).
func (i *Issuer) SignIn(tb testing.TB, base string, claims map[string]any) (*http.Response, *http.Client) {
	tb.Helper()
	browser := Browser(base, nil)
	return i.SignInBrowser(tb, browser, base, claims), browser
}

// SignInBrowser runs the whole sign-in in browser (/auth/login, the
// provider, /auth/callback) and returns the callback's answer.
func (i *Issuer) SignInBrowser(tb testing.TB, browser *http.Client, base string, claims map[string]any) *http.Response {
	tb.Helper()
	i.Next(claims)
	resp, err := browser.Get(base + "/auth/login?next=/console")
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Personal are the claims of an Entra ID token of a personal Microsoft
// account (its tenant is PersonalTenant). Like Entra ID's, the tokens carry
// the email without email_verified: CERTDESK_OIDC_TRUST_EMAIL decides.
func Personal(sub, email, name string) map[string]any {
	return entra(PersonalTenant, sub, email, name, nil)
}

// Work are the claims of an Entra ID token of a work or school account of
// tenant tid, with the app roles given (none: no roles claim).
func Work(tid, sub, email, name string, roles ...string) map[string]any {
	return entra(tid, sub, email, name, roles)
}

func entra(tid, sub, email, name string, roles []string) map[string]any {
	c := map[string]any{"ver": "2.0", "tid": tid, "sub": sub, "oid": sub, "email": email, "preferred_username": email, "name": name}
	if len(roles) > 0 {
		c["roles"] = roles
	}
	return c
}
