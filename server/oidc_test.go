package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/oidctest"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// oidcServer is certdesk in production mode over a seeded SQLite store,
// signing in through a local OpenID provider; configure, when given,
// changes its configuration first.
func oidcServer(t *testing.T, configure ...func(*config.Config)) (*oidctest.Issuer, string, *store.Store) {
	t.Helper()
	iss := oidctest.New(t)
	st := storetest.Seeded(t, "sqlite")
	cfg := devConfig(t, config.ModeProduction)
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	cfg.OIDC.Issuer, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret = iss.URL, oidctest.ClientID, oidctest.ClientSecret
	for _, f := range configure {
		f(&cfg)
	}
	srv.Config.Handler = server.New(server.Deps{Config: cfg, Store: st})
	srv.Start()
	t.Cleanup(srv.Close)
	return iss, srv.URL, st
}

func TestOIDCSignIn(t *testing.T) {
	iss, base, _ := oidcServer(t)

	// An agent, matched by verified email: signed in, sent where they asked.
	resp, browser := iss.SignIn(t, base, map[string]any{"sub": "entra-alice", "email": "Alice.Agent@certdesk.example", "email_verified": true})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		t.Fatalf("callback = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range browser.Jar.Cookies(mustURL(base)) {
		if ck.Name == "certdesk_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie after sign-in")
	}
	me := getMe(t, browser, base)
	if me["role"] != "agent" || me["email"] != "alice.agent@certdesk.example" {
		t.Fatalf("me after sign-in = %v", me)
	}
	// Next time the subject alone finds her, even without an email claim.
	_, browser = iss.SignIn(t, base, map[string]any{"sub": "entra-alice"})
	if me := getMe(t, browser, base); me["email"] != "alice.agent@certdesk.example" {
		t.Fatalf("sign-in by subject = %v", me)
	}

	refused := []struct {
		name   string
		claims map[string]any
		setup  func()
		code   int
	}{
		{"unverified email", map[string]any{"sub": "x1", "email": "bob.agent@certdesk.example", "email_verified": false}, nil, http.StatusForbidden},
		{"unknown person without a confirmed email", map[string]any{"sub": "x2", "email": "mallory@evil.example"}, nil, http.StatusForbidden},
		{"ID token signed by another key", map[string]any{"sub": "x3", "email": "bob.agent@certdesk.example", "email_verified": true}, func() { iss.SignWithOtherKey(true) }, http.StatusUnauthorized},
		{"wrong nonce", map[string]any{"sub": "x4", "email": "bob.agent@certdesk.example", "email_verified": true}, func() { iss.SignWithOtherKey(false); iss.WrongNonce(true) }, http.StatusUnauthorized},
	}
	for _, tc := range refused {
		if tc.setup != nil {
			tc.setup()
		}
		resp, browser := iss.SignIn(t, base, tc.claims)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: callback = %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if me := getMe(t, browser, base); me["role"] != nil {
			t.Errorf("%s: signed in as %v", tc.name, me)
		}
	}
	iss.WrongNonce(false)

	// A callback with a state this browser did not start is refused.
	jar, _ := cookiejar.New(nil)
	stranger := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, _ := stranger.Get(base + "/auth/callback?code=abc&state=def")
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without a sign-in in progress = %d, want 400", r.StatusCode)
	}
}

func getMe(t *testing.T, c *http.Client, base string) map[string]any {
	t.Helper()
	resp, err := c.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// Outside dev mode a learner adds an account by signing in with it: naming
// an email is refused; the proven account joins their learning profile.
func TestAddAccountBySigningInWithIt(t *testing.T) {
	iss, base, _ := oidcServer(t)

	_, ben := iss.SignIn(t, base, map[string]any{"sub": "entra-ben", "email": "ben.okafor@contoso.example", "email_verified": true, "tid": "contoso-tenant"})
	me := getMe(t, ben, base)
	lp := me["learning_profile"].(map[string]any)["id"].(string)

	// Naming the email is not proof.
	req, _ := http.NewRequest("POST", base+"/api/v1/learning-profiles/"+lp+"/accounts", strings.NewReader(`{"email":"ben.okafor@hotmail.example","kind":"personal"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", me["csrf_token"].(string))
	resp, err := ben.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("adding an account by naming it in production = %d, want 403", resp.StatusCode)
	}

	// Signing in with it is.
	iss.Next(map[string]any{"sub": "msa-ben", "email": "ben.okafor@hotmail.example", "email_verified": true, "tid": oidctest.PersonalTenant})
	resp, err = ben.Get(base + "/auth/login?add_account=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal?done=account" {
		t.Fatalf("add-account sign-in = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	me = getMe(t, ben, base)
	if me["email"] != "ben.okafor@contoso.example" || len(me["accounts"].([]any)) != 2 || len(me["certification_profiles"].([]any)) != 1 {
		t.Fatalf("after proving the personal account: %v", me)
	}
}

// The provider's error answer (a refused consent, a disabled user, a
// tenant's policy) shows one fixed message: none of the provider's words,
// which an attacker can put in the link, reach the page.
func TestOIDCProviderErrorShowsAFixedMessage(t *testing.T) {
	_, base, _ := oidcServer(t)
	for _, tc := range []struct{ code, description string }{
		{"access_denied", "The user has denied access to the scope requested by the client application."},
		{"<script>alert(1)</script>", "<img src=x onerror=alert(1)>"},
		{"server_error", "Call +1 555 0100 now: your account is locked; sign in at https://evil.example/login"},
		{"interaction_required", strings.Repeat("ü", 5000)},
		{"invalid_request", "AADSTS50011: The redirect URI 'http://x' specified in the request does not match"},
	} {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.Get(base + "/auth/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		to, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || to.Query().Get("state") == "" {
			t.Fatalf("sign-in start = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		q := url.Values{"error": {tc.code}, "error_description": {tc.description}, "state": {to.Query().Get("state")}}
		resp, err = browser.Get(base + "/auth/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "The sign-in provider did not sign you in. Please try again.") {
			t.Errorf("%s: callback = %d, page without the fixed message:\n%.400s", tc.code, resp.StatusCode, page)
		}
		for _, words := range []string{tc.code, tc.description[:min(len(tc.description), 24)], "evil.example", "AADSTS"} {
			if strings.Contains(page, words) {
				t.Errorf("%s: the page shows the provider's words %q", tc.code, words)
			}
		}
		if me := getMe(t, browser, base); me["role"] != nil {
			t.Errorf("%s: signed in as %v", tc.code, me)
		}
	}
}
