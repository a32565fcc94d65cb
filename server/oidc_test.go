package server_test

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

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// testIssuer is a small OpenID provider: discovery, a JWKS with a real RSA
// key, an authorize endpoint that signs in whoever the test says (checking
// the PKCE challenge later), and a token endpoint that issues signed ID
// tokens.
type testIssuer struct {
	*httptest.Server
	key      *rsa.PrivateKey
	mu       sync.Mutex
	who      map[string]any // the claims of the next sign-in
	codes    map[string]pending
	tamper   bool // sign ID tokens with another key
	badNonce bool
}

type pending struct {
	claims    map[string]any
	challenge string
	nonce     string
	client    string
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key, codes: map[string]pending{}}
	mux := http.NewServeMux()
	iss.Server = httptest.NewServer(mux)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "authorization_endpoint": iss.URL + "/authorize", "token_endpoint": iss.URL + "/token",
			"jwks_uri": iss.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "PKCE required", http.StatusBadRequest)
			return
		}
		code := randomCode()
		iss.mu.Lock()
		iss.codes[code] = pending{claims: iss.who, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), client: q.Get("client_id")}
		iss.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := back.Query()
		bq.Set("code", code)
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		iss.mu.Lock()
		p, ok := iss.codes[r.PostForm.Get("code")]
		delete(iss.codes, r.PostForm.Get("code"))
		iss.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		user, pass, _ := r.BasicAuth()
		if user == "" {
			user, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge || user != "certdesk" || pass != "s3cret" {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		claims := map[string]any{"iss": iss.URL, "aud": p.client, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": p.nonce}
		if iss.badNonce {
			claims["nonce"] = "something-else"
		}
		for k, v := range p.claims {
			claims[k] = v
		}
		signKey := iss.key
		if iss.tamper {
			signKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signKey}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		payload, _ := json.Marshal(claims)
		jws, _ := signer.Sign(payload)
		idt, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	t.Cleanup(iss.Close)
	return iss
}

func randomCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// signInWith runs the whole browser flow and returns the final response
// and the browser's client (with its cookies).
func signInWith(t *testing.T, iss *testIssuer, certdeskURL string, claims map[string]any) (*http.Response, *http.Client) {
	t.Helper()
	iss.mu.Lock()
	iss.who = claims
	iss.mu.Unlock()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), certdeskURL) && req.URL.Path != "/auth/callback" {
			return http.ErrUseLastResponse // stop once back on certdesk's pages
		}
		return nil
	}}
	resp, err := browser.Get(certdeskURL + "/auth/login?next=/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, browser
}

// oidcServer is certdesk in production mode over a seeded SQLite store,
// signing in through a local OpenID provider; configure, when given,
// changes its configuration first.
func oidcServer(t *testing.T, configure ...func(*config.Config)) (*testIssuer, string, *store.Store) {
	t.Helper()
	iss := newTestIssuer(t)
	st := storetest.Seeded(t, "sqlite")
	cfg := devConfig(t, config.ModeProduction)
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	cfg.OIDC.Issuer, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret = iss.URL, "certdesk", "s3cret"
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
	resp, browser := signInWith(t, iss, base, map[string]any{"sub": "entra-alice", "email": "Alice.Agent@certdesk.example", "email_verified": true})
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
	_, browser = signInWith(t, iss, base, map[string]any{"sub": "entra-alice"})
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
		{"ID token signed by another key", map[string]any{"sub": "x3", "email": "bob.agent@certdesk.example", "email_verified": true}, func() { iss.tamper = true }, http.StatusUnauthorized},
		{"wrong nonce", map[string]any{"sub": "x4", "email": "bob.agent@certdesk.example", "email_verified": true}, func() { iss.tamper, iss.badNonce = false, true }, http.StatusUnauthorized},
	}
	for _, tc := range refused {
		if tc.setup != nil {
			tc.setup()
		}
		resp, browser := signInWith(t, iss, base, tc.claims)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: callback = %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if me := getMe(t, browser, base); me["role"] != nil {
			t.Errorf("%s: signed in as %v", tc.name, me)
		}
	}
	iss.badNonce = false

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

	_, ben := signInWith(t, iss, base, map[string]any{"sub": "entra-ben", "email": "ben.okafor@contoso.example", "email_verified": true, "tid": "contoso-tenant"})
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
	iss.mu.Lock()
	iss.who = map[string]any{"sub": "msa-ben", "email": "ben.okafor@hotmail.example", "email_verified": true, "tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}
	iss.mu.Unlock()
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
