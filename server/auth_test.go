package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

func TestSessionTamperingExpiryAndSignOut(t *testing.T) {
	st := storetest.Seeded(t, "sqlite")
	now := time.Now()
	clock := func() time.Time { return now }
	st.Now = func() time.Time { return clock().UTC() }
	h := &harness{t: t, store: st, h: server.New(server.Deps{Config: devConfig(t, config.ModeDev), Store: st, Now: clock})}

	token := h.login("ben.okafor@contoso.example")
	if r := h.do("GET", "/api/v1/me", token, nil); r.Code != http.StatusOK {
		t.Fatalf("fresh session = %d", r.Code)
	}
	// Tampered: a payload naming someone else, with the old signature.
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"sub":"account:`, `"sub":"agent:`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	if r := h.do("GET", "/api/v1/me", tampered, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("tampered session = %d, want 401", r.Code)
	}
	// Signed out: the token stops working everywhere.
	other := h.login("alice.agent@certdesk.example")
	if r := h.do("POST", "/logout", other, nil); r.Code != http.StatusNoContent {
		t.Fatalf("sign out = %d", r.Code)
	}
	if r := h.do("GET", "/api/v1/me", other, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("session after sign-out = %d, want 401", r.Code)
	}
	// Expired: 12 hours later the first session is over.
	now = now.Add(12*time.Hour + time.Minute)
	if r := h.do("GET", "/api/v1/me", token, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("expired session = %d, want 401", r.Code)
	}
}

func TestPersonalAccessTokens(t *testing.T) {
	h := newHarness(t, "postgres", nil)
	ctx := context.Background()
	alice, _ := h.store.AgentByEmail(ctx, "alice.agent@certdesk.example")
	mint := func(ttl time.Duration) (string, store.AccessToken) {
		raw, hash := certdesk.NewToken()
		tok := store.AccessToken{AgentID: alice.ID, Name: "ci", Hash: hash, ExpiresAt: time.Now().Add(ttl)}
		if err := h.store.CreateAccessToken(ctx, &tok, config.DefaultTokenMaxTTL); err != nil {
			t.Fatal(err)
		}
		return "cdp_" + raw, tok
	}
	pat, row := mint(time.Hour)
	me := h.do("GET", "/api/v1/me", pat, nil)
	if me.Code != http.StatusOK || me.json(t)["email"] != alice.Email || me.json(t)["role"] != "agent" {
		t.Fatalf("PAT = %d %s", me.Code, me.Body)
	}
	if r := h.do("GET", "/api/v1/cases", pat, nil); r.Code != http.StatusOK {
		t.Errorf("PAT on the case list = %d", r.Code)
	}
	if err := h.store.RevokeAccessToken(ctx, row.ID); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/api/v1/me", pat, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("revoked PAT = %d, want 401", r.Code)
	}
	expired, _ := mint(-time.Minute)
	if r := h.do("GET", "/api/v1/me", expired, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("expired PAT = %d, want 401", r.Code)
	}
	if r := h.do("GET", "/api/v1/me", "cdp_"+strings.Repeat("x", 43), nil); r.Code != http.StatusUnauthorized {
		t.Errorf("unknown PAT = %d, want 401", r.Code)
	}
}

func TestSignInsAndAgentActionsAreAudited(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	ctx := context.Background()
	alice := h.login("alice.agent@certdesk.example")
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "w"}
	if _, err := h.store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/api/v1/cases/"+c.ID+"/claim", alice, nil); r.Code != http.StatusOK {
		t.Fatalf("claim = %d %s", r.Code, r.Body)
	}
	if r := h.do("POST", "/api/v1/cases/"+c.ID+"/notes", alice, map[string]string{"note": "called the learner"}); r.Code != http.StatusCreated {
		t.Fatalf("note = %d %s", r.Code, r.Body)
	}
	a, _ := h.store.AgentByEmail(ctx, "alice.agent@certdesk.example")
	log, err := h.store.AuditLog(ctx, certdesk.AgentActor(a.ID), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
		if e.ClientAddr == "" || e.At.IsZero() {
			t.Errorf("audit entry %+v lacks the client address or time", e)
		}
	}
	if got := strings.Join(actions, ","); got != "note,claim,sign_in" {
		t.Fatalf("audit log = %s, want note,claim,sign_in", got)
	}
	evs, _ := h.store.Events(ctx, c.ID, 0, 0)
	if evs[len(evs)-1].Type != "note" || evs[len(evs)-1].Actor != certdesk.AgentActor(a.ID) {
		t.Fatalf("the case timeline does not show the note by Alice: %+v", evs[len(evs)-1])
	}
}

func TestRateLimitsOnSignInLinksAndWebhook(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	var last response
	for i := 0; i < 21; i++ {
		last = h.do("POST", "/dev/login", "", map[string]string{"email": "ana.silva@outlook.example"})
	}
	if last.Code != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.errorCode(t) != "rate_limited" {
		t.Fatalf("21st sign-in in a minute = %d %v %s", last.Code, last.Header, last.Body)
	}
	for i := 0; i < 31; i++ {
		last = h.do("POST", "/l/"+strings.Repeat("A", 43), "", "")
	}
	if last.Code != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || !strings.Contains(string(last.Body), "Too many tries") {
		t.Fatalf("31st link use in a minute = %d %s", last.Code, last.Body)
	}
	// Another client is not affected.
	req := httptest.NewRequest("POST", "/dev/login", strings.NewReader(`{"email":"ana.silva@outlook.example"}`))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "198.51.100.7:1234"
	if rec := h.serve(req); rec.Code != http.StatusOK {
		t.Fatalf("another client's sign-in = %d", rec.Code)
	}
}
