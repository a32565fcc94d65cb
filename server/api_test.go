package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// harness is an API server over a seeded store.
type harness struct {
	t     testing.TB
	h     http.Handler
	store *store.Store
}

func devConfig(t testing.TB, mode config.Mode) config.Config {
	t.Helper()
	cfg, err := config.Load(mode, config.MapEnv{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://certdesk.test"
	cfg.Secret = strings.Repeat("s", 40)
	return cfg
}

func newHarness(t testing.TB, dialect string, tc client.Client) *harness {
	t.Helper()
	st := storetest.Seeded(t, dialect)
	return &harness{t: t, store: st, h: server.New(server.Deps{Config: devConfig(t, config.ModeDev), Store: st, Temporal: tc})}
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
	return m
}

func (r response) errorCode(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends a request through the handler (see stacktest.NewRequest).
func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	req, err := stacktest.NewRequest(method, path, token, body)
	if err != nil {
		h.t.Fatal(err)
	}
	rec := h.serve(req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// serve runs one request through the handler.
func (h *harness) serve(req *http.Request) *httptest.ResponseRecorder {
	if req.RemoteAddr == "" {
		req.RemoteAddr = "192.0.2.1:4711" // as a server sees a client
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

// login signs in through the dev sign-in and returns the bearer token.
func (h *harness) login(email string) string {
	h.t.Helper()
	r := h.do("POST", "/dev/login", "", map[string]string{"email": email})
	if r.Code != http.StatusOK {
		h.t.Fatalf("login %s: %d %s", email, r.Code, r.Body)
	}
	return r.json(h.t)["token"].(string)
}

func TestHealthz(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	r := h.do("GET", "/healthz", "", nil)
	if r.Code != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz = %d %s", r.Code, r.Body)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the answer")
	}
}

func TestAnonymousGets401InTheErrorShape(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	for _, path := range []string{"/api/v1/me", "/api/v1/cases", "/api/v1/cases/01m80fwatwerkteks57h17kr1e"} {
		r := h.do("GET", path, "", nil)
		if r.Code != http.StatusUnauthorized || r.errorCode(t) != "unauthenticated" {
			t.Errorf("GET %s anonymous = %d %s, want 401 unauthenticated", path, r.Code, r.Body)
		}
	}
	r := h.do("GET", "/api/v1/me", "s1.forged.token", nil)
	if r.Code != http.StatusUnauthorized {
		t.Errorf("forged bearer token = %d, want 401", r.Code)
	}
	r = h.do("GET", "/api/v1/nothing-here", "", nil)
	if r.Code != http.StatusNotFound || r.errorCode(t) != "not_found" {
		t.Errorf("unknown route = %d %s", r.Code, r.Body)
	}
	r = h.do("DELETE", "/healthz", "", nil)
	if r.Code != http.StatusMethodNotAllowed || r.errorCode(t) != "method_not_allowed" {
		t.Errorf("wrong method = %d %s", r.Code, r.Body)
	}
}

func TestMeForEachDemoPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		tests := []struct {
			email, role string
			profiles    int
			lpAccounts  int
		}{
			{"ana.silva@outlook.example", "learner", 1, 1},
			{"ben.okafor@contoso.example", "learner", 0, 1},
			{"chen.wei@outlook.example", "learner", 2, 1}, // 100003 owned, 100004 registered with his address
			{"alice.agent@certdesk.example", "agent", 0, 0},
			{"sam.supervisor@certdesk.example", "supervisor", 0, 0},
		}
		// Dara's account is inactive: she cannot sign in until a recovery.
		if r := h.do("POST", "/dev/login", "", map[string]string{"email": "dara.murphy@outlook.example"}); r.Code != http.StatusForbidden {
			t.Errorf("inactive Dara signs in: %d", r.Code)
		}
		for _, tc := range tests {
			me := h.do("GET", "/api/v1/me", h.login(tc.email), nil).json(t)
			if me["role"] != tc.role || me["email"] != tc.email {
				t.Errorf("%s: me = %v", tc.email, me)
			}
			if got := len(me["certification_profiles"].([]any)); got != tc.profiles {
				t.Errorf("%s: %d certification profiles, want %d", tc.email, got, tc.profiles)
			}
			for _, p := range me["certification_profiles"].([]any) {
				p := p.(map[string]any)
				if want := p["mcid"] != "100004"; p["owned"] != want {
					t.Errorf("%s: profile %v owned = %v, want %v", tc.email, p["mcid"], p["owned"], want)
				}
			}
			lp, _ := me["learning_profile"].(map[string]any)
			if tc.lpAccounts == 0 && lp != nil || tc.lpAccounts > 0 && (lp == nil || len(lp["accounts"].([]any)) != tc.lpAccounts) {
				t.Errorf("%s: learning profile %v", tc.email, lp)
			}
		}
	})
}

func TestAddAccountToLearningProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		ben := h.login("ben.okafor@contoso.example")
		me := h.do("GET", "/api/v1/me", ben, nil).json(t)
		lp := me["learning_profile"].(map[string]any)["id"].(string)
		path := "/api/v1/learning-profiles/" + lp + "/accounts"

		bad := []struct {
			body  any
			field string
		}{
			{map[string]string{"email": "not an email", "kind": "personal"}, "email"},
			{map[string]string{"email": "ben@hotmail.example", "kind": "robot"}, "kind"},
			{`{"email":"ben@hotmail.example","kind":"personal","admin":true}`, "admin"},
		}
		for _, b := range bad {
			r := h.do("POST", path, ben, b.body)
			fields, _ := r.json(t)["error"].(map[string]any)["fields"].(map[string]any)
			if r.Code != 400 || fields[b.field] == nil {
				t.Errorf("POST %v = %d %s, want 400 naming %s", b.body, r.Code, r.Body, b.field)
			}
		}
		if r := h.do("POST", path, ben, `{"email":"x@y.example"} {"again":1}`); r.Code != 400 {
			t.Errorf("trailing data = %d, want 400", r.Code)
		}
		if got := len(h.do("GET", "/api/v1/me", ben, nil).json(t)["accounts"].([]any)); got != 1 {
			t.Fatalf("bad requests changed the accounts: %d", got)
		}

		r := h.do("POST", path, ben, map[string]string{"email": "Ben.Okafor@Hotmail.example", "kind": "personal"})
		if r.Code != http.StatusCreated {
			t.Fatalf("add personal account = %d %s", r.Code, r.Body)
		}
		me = h.do("GET", "/api/v1/me", ben, nil).json(t)
		if len(me["accounts"].([]any)) != 2 || len(me["certification_profiles"].([]any)) != 1 {
			t.Fatalf("after adding: %v", me)
		}
		if r := h.do("POST", path, ben, map[string]string{"email": "ben.okafor@hotmail.example", "kind": "personal"}); r.Code != http.StatusOK {
			t.Errorf("adding it again = %d, want 200", r.Code)
		}

		ana := h.login("ana.silva@outlook.example")
		if r := h.do("POST", path, ana, map[string]string{"email": "ana2@outlook.example", "kind": "personal"}); r.Code != http.StatusNotFound {
			t.Errorf("Ana adding to Ben's learning profile = %d, want 404", r.Code)
		}
		anaLP := h.do("GET", "/api/v1/me", ana, nil).json(t)["learning_profile"].(map[string]any)["id"].(string)
		r = h.do("POST", "/api/v1/learning-profiles/"+anaLP+"/accounts", ana, map[string]string{"email": "ben.okafor@hotmail.example", "kind": "personal"})
		if r.Code != http.StatusConflict {
			t.Errorf("Ana adding Ben's account = %d %s, want 409", r.Code, r.Body)
		}
		alice := h.login("alice.agent@certdesk.example")
		if r := h.do("POST", path, alice, map[string]string{"email": "a@b.example", "kind": "personal"}); r.Code != http.StatusForbidden {
			t.Errorf("an agent adding an account = %d, want 403", r.Code)
		}
	})
}

// A browser session must carry the CSRF token to change anything.
func TestCookieSessionNeedsCSRF(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	req := httptest.NewRequest("POST", "/dev/login", strings.NewReader("email=ben.okafor%40contoso.example"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal" {
		t.Fatalf("form login = %d → %s", rec.Code, rec.Header().Get("Location"))
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax", cookie)
	}
	send := func(method, path, csrf, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.AddCookie(cookie)
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		return rec
	}
	rec = send("GET", "/api/v1/me", "", "")
	var me map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &me)
	csrf, _ := me["csrf_token"].(string)
	lp := me["learning_profile"].(map[string]any)["id"].(string)
	if rec.Code != 200 || csrf == "" {
		t.Fatalf("GET /me with the cookie = %d, csrf %q", rec.Code, csrf)
	}
	body := `{"email":"ben.okafor@hotmail.example","kind":"personal"}`
	path := "/api/v1/learning-profiles/" + lp + "/accounts"
	if rec := send("POST", path, "", body); rec.Code != http.StatusForbidden {
		t.Errorf("POST without CSRF token = %d, want 403", rec.Code)
	}
	if rec := send("POST", path, "wrong", body); rec.Code != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token = %d, want 403", rec.Code)
	}
	if rec := send("POST", path, csrf, body); rec.Code != http.StatusCreated {
		t.Errorf("POST with the CSRF token = %d %s, want 201", rec.Code, rec.Body)
	}
}

func TestDevLoginNotRoutableInProduction(t *testing.T) {
	st := storetest.Seeded(t, "sqlite")
	h := &harness{t: t, store: st, h: server.New(server.Deps{Config: devConfig(t, config.ModeProduction), Store: st})}
	for _, m := range []string{"GET", "POST"} {
		if r := h.do(m, "/dev/login", "", map[string]string{"email": "alice.agent@certdesk.example"}); r.Code != http.StatusNotFound {
			t.Errorf("%s /dev/login in production = %d, want 404", m, r.Code)
		}
	}
}

func TestReadyz(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	srv, err := devserver.Start(context.Background(), devserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	tc, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	h := newHarness(t, "postgres", tc)
	if r := h.do("GET", "/readyz", "", nil); r.Code != http.StatusOK {
		t.Fatalf("readyz with everything up = %d %s", r.Code, r.Body)
	}

	// The database goes away: it refuses connections and drops the open ones.
	var name string
	if err := h.store.SQL().QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", storetest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{
		"ALTER DATABASE " + name + " ALLOW_CONNECTIONS false",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r := h.do("GET", "/readyz", "", nil)
	if r.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database gone = %d %s, want 503", r.Code, r.Body)
	}
	checks := r.json(t)["checks"].(map[string]any)
	if checks["database"] != "unreachable" || checks["temporal"] != "ok" {
		t.Fatalf("readyz checks = %v, want the database named as the reason", checks)
	}
	if r := h.do("GET", "/healthz", "", nil); r.Code != http.StatusOK {
		t.Errorf("healthz with the database gone = %d: the process is alive", r.Code)
	}
}
