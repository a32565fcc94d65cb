package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// integrationTokens are an integration token with every scope and, for
// each scope, one with all the others.
type integrationTokens struct {
	all     string
	without map[certdesk.Scope]string
}

func mintIntegrationTokens(t testing.TB, st *store.Store) integrationTokens {
	t.Helper()
	it := integrationTokens{all: mintIntegration(t, st, "everything", certdesk.Scopes...), without: map[certdesk.Scope]string{}}
	for _, sc := range certdesk.Scopes {
		var others []certdesk.Scope
		for _, o := range certdesk.Scopes {
			if o != sc {
				others = append(others, o)
			}
		}
		it.without[sc] = mintIntegration(t, st, "without "+string(sc), others...)
	}
	return it
}

// mintIntegration stores an integration token, as `certdesk token create
// --integration` does, and returns it as a client sends it.
func mintIntegration(t testing.TB, st *store.Store, name string, scopes ...certdesk.Scope) string {
	t.Helper()
	return storeIntegration(t, st, &store.IntegrationToken{Name: name, Scopes: scopes, ExpiresAt: time.Now().Add(time.Hour)})
}

// storeIntegration stores a token (a new one's hash) and returns it.
func storeIntegration(t testing.TB, st *store.Store, tok *store.IntegrationToken) string {
	t.Helper()
	raw, hash := certdesk.NewToken()
	tok.Hash = hash
	if err := st.CreateIntegrationToken(context.Background(), tok, config.DefaultTokenMaxTTL); err != nil {
		t.Fatal(err)
	}
	return auth.IntegrationToken(raw)
}

// The integration roles of the route × role matrix.
const (
	roleIntegrationNoScope = "integration without the scope"
	roleIntegration        = "integration"
)

// token is the token of an integration role for an operation: for an
// integration operation without its scope, one lacking it.
func (it integrationTokens) token(role, access string) string {
	if role == roleIntegrationNoScope {
		if sc, ok := strings.CutPrefix(access, "integration:"); ok {
			return it.without[certdesk.Scope(sc)]
		}
	}
	return it.all
}

// examplePath fills an operation's path parameters.
func examplePath(path, caseID, learningProfileID string) string {
	if strings.Contains(path, "/learning-profiles/") {
		path = strings.Replace(path, "{id}", learningProfileID, 1)
	}
	return strings.NewReplacer("{id}", caseID, "{mcid}", "100099", "{email}", "eva.novak@outlook.example").Replace(path)
}

// exampleBody is what the matrix sends an operation: its example.
func exampleBody(op openapiOp) any {
	if op.Method != http.MethodPost && op.Method != http.MethodPut {
		return nil
	}
	if op.Example == nil {
		return map[string]any{}
	}
	return op.Example
}

// The integration API lets in only integration tokens with the route's
// scope (anonymous 401; learners, agents, supervisors and integrations
// without the scope 403), and an integration token opens nothing else:
// every other operation of the document (public ones included) is 403.
// Driven from the OpenAPI document, so a new route is covered.
func TestIntegrationTokensOpenOnlyTheIntegrationAPI(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	it := mintIntegrationTokens(t, h.store)
	people := map[string]string{"anonymous": ""}
	for role, email := range map[string]string{"learner": "ben.okafor@contoso.example", "agent": "alice.agent@certdesk.example", "supervisor": "sam.supervisor@certdesk.example"} {
		people[role] = h.login(email)
	}
	integration := 0
	for _, op := range operations(t) {
		path := examplePath(op.Path, certdesk.NewID(), certdesk.NewID())
		roles := map[string]string{roleIntegrationNoScope: it.token(roleIntegrationNoScope, op.Access), roleIntegration: it.all}
		if strings.HasPrefix(op.Access, "integration:") {
			integration++
			if !strings.HasPrefix(op.Path, strings.TrimSuffix(auth.IntegrationPath, "/")) {
				t.Errorf("%s %s is an integration operation outside %s", op.Method, op.Path, auth.IntegrationPath)
			}
			for role, tok := range people {
				roles[role] = tok
			}
		} else if strings.HasPrefix(op.Path, auth.IntegrationPath) {
			t.Errorf("%s %s is under %s but its access is %q", op.Method, op.Path, auth.IntegrationPath, op.Access)
		}
		for role, tok := range roles {
			r := h.do(op.Method, path, tok, exampleBody(op))
			want := expected(op.Access, role)
			name := op.Method + " " + op.Path + " as " + role
			switch {
			case want == 0 && (r.Code == 401 || r.Code == 403 || r.Code >= 500):
				t.Errorf("%s = %d %s; the role may call it", name, r.Code, r.Body)
			case want != 0 && r.Code != want:
				t.Errorf("%s = %d %s, want %d", name, r.Code, r.Body, want)
			}
			if !op.Responses[r.Code] {
				t.Errorf("%s answered %d, which the document does not list", name, r.Code)
			}
		}
	}
	if integration != 3 {
		t.Errorf("%d integration operations documented, want 3", integration)
	}
	// Pages and the rest of the site refuse it too, and it is never a cookie.
	for _, path := range []string{"/console", "/portal", "/healthz", "/dev/mail"} {
		if r := h.do("GET", path, it.all, nil); r.Code != http.StatusForbidden {
			t.Errorf("GET %s with an integration token = %d, want 403", path, r.Code)
		}
	}
	req := httptest.NewRequest("POST", "/api/v1/integration/sign-in-events", strings.NewReader(`{"events":[{"email":"ana.silva@outlook.example"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "certdesk_session", Value: it.all})
	if rec := h.serve(req); rec.Code != http.StatusUnauthorized {
		t.Errorf("an integration token as the cookie = %d %s, want 401", rec.Code, rec.Body)
	}
}

// An integration token works until it is revoked or expires; anything
// else that starts like one is 401.
func TestIntegrationTokenLifetime(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	ctx := context.Background()
	tok := &store.IntegrationToken{Name: "learning-site", Scopes: []certdesk.Scope{certdesk.ScopeSignInsWrite}, ExpiresAt: time.Now().Add(time.Hour)}
	live := storeIntegration(t, h.store, tok)
	batch := map[string]any{"events": []map[string]string{{"email": "ana.silva@outlook.example"}}}
	send := func(token string) int { return h.do("POST", "/api/v1/integration/sign-in-events", token, batch).Code }
	if code := send(live); code != http.StatusOK {
		t.Fatalf("live token = %d", code)
	}
	raw := strings.TrimPrefix(live, "cdi_")
	for name, token := range map[string]string{"garbage": "cdi_nonsense", "unknown": auth.IntegrationToken(strings.Repeat("A", len(raw))), "as a personal access token": "cdp_" + raw} {
		if code := send(token); code != http.StatusUnauthorized {
			t.Errorf("%s token = %d, want 401", name, code)
		}
	}
	if err := h.store.RevokeIntegrationToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if code := send(live); code != http.StatusUnauthorized {
		t.Errorf("revoked token = %d, want 401", code)
	}
	expired := storeIntegration(t, h.store, &store.IntegrationToken{Name: "old", Scopes: certdesk.Scopes, ExpiresAt: time.Now().Add(-time.Minute)})
	if code := send(expired); code != http.StatusUnauthorized {
		t.Errorf("expired token = %d, want 401", code)
	}
}

// fieldsOf is an error answer's fields.
func fieldsOf(t *testing.T, r response) map[string]any {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func profileBody() map[string]any {
	return map[string]any{
		"legal_name": "Eva Novak", "email": "Eva.Novak@Outlook.example", "owner_email": "ana.silva@outlook.example", "status": "active",
		"created_at":     "2021-04-12T10:00:00Z",
		"certifications": []map[string]any{{"code": "AZ-900", "title": "Azure Fundamentals", "earned_at": "2021-06-01T00:00:00Z"}},
		"exams":          []map[string]any{{"code": "AZ-900", "title": "Microsoft Azure Fundamentals", "taken_at": "2021-05-28T14:00:00Z", "score": 820}},
	}
}

// PUT certification-profiles/{mcid}: inserted (201), the same again
// unchanged (200), a change updated with its history; bad fields 400
// naming each, nothing applied; a profile in an open case 409 naming the
// case (the same record still answers unchanged).
func TestIntegrationPutCertificationProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		ctx := context.Background()
		tok := mintIntegration(t, h.store, "certification-system", certdesk.ScopeProfilesWrite)
		put := func(mcid string, body any) response {
			return h.do("PUT", "/api/v1/integration/certification-profiles/"+mcid, tok, body)
		}
		body := profileBody()
		for i, want := range []struct {
			code    int
			outcome string
		}{{http.StatusCreated, "inserted"}, {http.StatusOK, "unchanged"}} {
			r := put("200001", body)
			if r.Code != want.code || r.json(t)["outcome"] != want.outcome {
				t.Fatalf("PUT #%d = %d %s, want %d %s", i+1, r.Code, r.Body, want.code, want.outcome)
			}
		}
		var got struct {
			Outcome string
			Profile certdesk.ProfileRecord
		}
		put("200001", body).decode(t, &got)
		if p := got.Profile; p.MCID != "200001" || p.Email != "eva.novak@outlook.example" || p.OwnerEmail != "ana.silva@outlook.example" ||
			p.Status != "active" || p.CreatedAt == nil || !p.CreatedAt.Equal(time.Date(2021, 4, 12, 10, 0, 0, 0, time.UTC)) ||
			len(p.Certifications) != 1 || len(p.Exams) != 1 || *p.Exams[0].Score != 820 || !*p.Exams[0].Passed {
			t.Errorf("the stored record = %+v", p)
		}
		if n := profileHistory(t, h.store, "200001"); n != 0 {
			t.Errorf("%d history rows after an insert and the same again", n)
		}

		// Changed: updated, its history recorded, the change audited.
		body["legal_name"] = "Eva Novak-Horvat"
		body["mcid"] = "200001" // the path's: allowed
		r := put("200001", body)
		if r.Code != http.StatusOK || r.json(t)["outcome"] != "updated" {
			t.Fatalf("changed record = %d %s", r.Code, r.Body)
		}
		if n := profileHistory(t, h.store, "200001"); n != 1 {
			t.Errorf("%d history rows after a change, want 1", n)
		}
		if p, _ := h.store.CertificationProfileByMCID(ctx, "200001"); p.LegalName != "Eva Novak-Horvat" {
			t.Errorf("after the update: %+v", p)
		}

		// Bad input: 400 naming each field; nothing applied.
		bad := profileBody()
		bad["legal_name"], bad["email"], bad["status"] = "", "not an address", "gone"
		bad["certifications"] = []map[string]any{{"code": "AZ 900!", "title": "x"}}
		tests := []struct {
			name, mcid string
			body       any
			fields     []string
		}{
			{"bad fields", "200002", bad, []string{"legal_name", "email", "status", "certifications[0].code", "certifications[0].earned_at"}},
			{"another mcid in the body", "200002", withField(profileBody(), "mcid", "200003"), []string{"mcid"}},
			{"not an mcid in the path", "12ab", profileBody(), []string{"mcid"}},
			{"an unknown field", "200002", withField(profileBody(), "nickname", "Evi"), []string{"nickname"}},
			{"a wrong type", "200002", withField(profileBody(), "certifications", "AZ-900"), []string{"certifications"}},
			{"NUL in a name", "200002", withField(profileBody(), "legal_name", "Eva\x00"), []string{"legal_name"}},
			{"an owner certdesk does not know", "200002", withField(profileBody(), "owner_email", "nobody@outlook.example"), []string{"owner_email"}},
		}
		for _, tc := range tests {
			r := put(tc.mcid, tc.body)
			if r.Code != http.StatusBadRequest {
				t.Errorf("%s = %d %s, want 400", tc.name, r.Code, r.Body)
				continue
			}
			f := fieldsOf(t, r)
			for _, field := range tc.fields {
				if f[field] == nil {
					t.Errorf("%s: fields %v do not name %s", tc.name, f, field)
				}
			}
		}
		if _, err := h.store.CertificationProfileByMCID(ctx, "200002"); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("a refused record left a profile: %v", err)
		}

		// A profile in an open case is not changed under it.
		ana, _ := h.store.CertificationProfileByMCID(ctx, "100001")
		cs := &certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Requester: certdesk.ActorSystem,
			WorkflowID: "merge-" + certdesk.NewID(), ProfileIDs: []string{ana.ID}, MCIDs: []string{"100001"}, Details: json.RawMessage(`{}`)}
		if _, err := h.store.OpenCase(ctx, cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			t.Fatal(err)
		}
		var held struct{ Profile certdesk.ProfileRecord }
		if r := put("100001", map[string]any{"legal_name": "Ana Silva", "email": ana.Email, "owner_email": "ana.silva@outlook.example", "status": "active"}); r.Code != http.StatusOK || r.json(t)["outcome"] != "unchanged" {
			t.Errorf("the profile as it is, in an open case = %d %s, want 200 unchanged", r.Code, r.Body)
		} else {
			r.decode(t, &held)
		}
		changed := map[string]any{"legal_name": "Ana Silva-Costa", "email": ana.Email, "owner_email": "ana.silva@outlook.example", "status": "active",
			"certifications": held.Profile.Certifications, "exams": held.Profile.Exams}
		if r := put("100001", changed); r.Code != http.StatusConflict || !strings.Contains(string(r.Body), cs.ID) {
			t.Errorf("a change to a profile in an open case = %d %s, want 409 naming %s", r.Code, r.Body, cs.ID)
		}
		if p, _ := h.store.CertificationProfileByMCID(ctx, "100001"); p.LegalName != "Ana Silva" {
			t.Errorf("changed under the case: %+v", p)
		}
	})
}

func withField(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.Code, r.Body, err)
	}
}

// profileHistory counts a profile's history rows.
func profileHistory(t *testing.T, st *store.Store, mcid string) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM certification_profile_history h JOIN certification_profiles c ON c.id = h.profile_id WHERE c.mcid = $1`
	if st.Dialect() == "sqlite" {
		q = strings.ReplaceAll(q, "$1", "?")
	}
	var n int
	if err := st.SQL().QueryRow(q, mcid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// PUT accounts/{email}: inserted, unchanged, updated; an earlier sign-in
// than certdesk's changes nothing; another kind is 409; bad fields 400.
func TestIntegrationPutAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		ctx := context.Background()
		tok := mintIntegration(t, h.store, "learning-site", certdesk.ScopeAccountsWrite)
		put := func(email string, body any) response {
			return h.do("PUT", "/api/v1/integration/accounts/"+email, tok, body)
		}
		body := map[string]any{"kind": "personal", "display_name": "Finn", "last_sign_in_at": "2026-01-15T08:30:00Z"}
		steps := []struct {
			name    string
			change  func()
			code    int
			outcome string
		}{
			{"new", func() {}, http.StatusCreated, "inserted"},
			{"the same", func() {}, http.StatusOK, "unchanged"},
			{"an earlier sign-in", func() { body["last_sign_in_at"] = "2025-01-15T08:30:00Z" }, http.StatusOK, "unchanged"},
			{"a new name and a later sign-in", func() { body["display_name"], body["last_sign_in_at"] = "Finn Berg", "2026-02-01T08:00:00Z" }, http.StatusOK, "updated"},
			{"the email in the body too", func() { body["email"] = "FINN.BERG@outlook.example" }, http.StatusOK, "unchanged"},
		}
		for _, st := range steps {
			st.change()
			r := put("finn.berg@outlook.example", body)
			if r.Code != st.code || r.json(t)["outcome"] != st.outcome {
				t.Fatalf("%s = %d %s, want %d %s", st.name, r.Code, r.Body, st.code, st.outcome)
			}
		}
		var got struct{ Account certdesk.AccountRecord }
		put("finn.berg@outlook.example", body).decode(t, &got)
		if a := got.Account; a.Email != "finn.berg@outlook.example" || a.Kind != "personal" || a.DisplayName != "Finn Berg" ||
			a.LastSignInAt == nil || !a.LastSignInAt.Equal(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("the stored account = %+v", a)
		}
		if r := put("finn.berg@outlook.example", withField(body, "kind", "work")); r.Code != http.StatusConflict || fieldsOf(t, r) != nil && fieldsOf(t, r)["kind"] == nil {
			t.Errorf("another kind = %d %s, want 409", r.Code, r.Body)
		}
		for name, tc := range map[string]struct {
			email string
			body  map[string]any
			field string
		}{
			"a bad kind":                {"gus@outlook.example", map[string]any{"kind": "robot"}, "kind"},
			"no kind":                   {"gus@outlook.example", map[string]any{"display_name": "Gus"}, "kind"},
			"not an address":            {"gus", map[string]any{"kind": "personal"}, "email"},
			"another email in the body": {"gus@outlook.example", map[string]any{"kind": "personal", "email": "hal@outlook.example"}, "email"},
			"a bad time":                {"gus@outlook.example", map[string]any{"kind": "personal", "last_sign_in_at": "yesterday"}, "last_sign_in_at"},
		} {
			r := put(tc.email, tc.body)
			if r.Code != http.StatusBadRequest || fieldsOf(t, r)[tc.field] == nil {
				t.Errorf("%s = %d %s, want 400 naming %s", name, r.Code, r.Body, tc.field)
			}
		}
		if _, err := h.store.AccountByEmail(ctx, "gus@outlook.example"); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("a refused record left an account: %v", err)
		}
	})
}

// POST sign-in-events: a batch is recorded in one transaction, all or
// nothing: a bad event is 400, an unknown or inactive account 409, each
// named by its index; too many events 413.
func TestIntegrationSignInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		ctx := context.Background()
		tok := mintIntegration(t, h.store, "learning-site", certdesk.ScopeSignInsWrite)
		send := func(events ...map[string]string) response {
			return h.do("POST", "/api/v1/integration/sign-in-events", tok, map[string]any{"events": events})
		}
		ana, chen := "ana.silva@outlook.example", "chen.wei@outlook.example"
		lastOf := func(email string) *time.Time {
			a, err := h.store.AccountByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return a.LastSignInAt
		}
		before := lastOf(ana)
		later := time.Now().UTC().Add(time.Minute).Truncate(time.Second).Format(time.RFC3339)
		refusals := []struct {
			name   string
			events []map[string]string
			code   int
			fields []string
		}{
			{"a bad event", []map[string]string{{"email": ana, "at": later}, {"email": chen}, {"email": chen, "at": "tomorrow"}, {"email": "not an address"}},
				http.StatusBadRequest, []string{"events[2].at", "events[3].email"}},
			{"an event in the future", []map[string]string{{"email": ana, "at": "2999-01-01T00:00:00Z"}}, http.StatusBadRequest, []string{"events[0].at"}},
			{"an unknown and an inactive account", []map[string]string{{"email": ana, "at": later}, {"email": "nobody@outlook.example"}, {"email": "dara.murphy@outlook.example"}},
				http.StatusConflict, []string{"events[1].email", "events[2].email"}},
			{"no events", nil, http.StatusBadRequest, []string{"events"}},
		}
		for _, tc := range refusals {
			r := send(tc.events...)
			if r.Code != tc.code {
				t.Errorf("%s = %d %s, want %d", tc.name, r.Code, r.Body, tc.code)
				continue
			}
			f := fieldsOf(t, r)
			if len(f) != len(tc.fields) {
				t.Errorf("%s: fields %v, want %v", tc.name, f, tc.fields)
			}
			for _, field := range tc.fields {
				if f[field] == nil {
					t.Errorf("%s: fields %v do not name %s", tc.name, f, field)
				}
			}
		}
		if got := lastOf(ana); !sameInstant(got, before) {
			t.Errorf("a refused batch changed Ana's last sign-in: %v → %v", before, got)
		}
		many := make([]map[string]string, 1001)
		for i := range many {
			many[i] = map[string]string{"email": ana}
		}
		if r := send(many...); r.Code != http.StatusRequestEntityTooLarge || r.errorCode(t) != "too_large" || fieldsOf(t, r)["events"] == nil {
			t.Errorf("1001 events = %d %.300s, want 413 naming events", r.Code, r.Body)
		}

		r := send(map[string]string{"email": ana, "at": later}, map[string]string{"email": "Chen.Wei@Outlook.example"}, map[string]string{"email": ana, "at": "2020-01-01T00:00:00Z"})
		var out struct {
			Recorded int
			Items    []struct {
				Email        string
				LastSignInAt *time.Time `json:"last_sign_in_at"`
			}
		}
		r.decode(t, &out)
		if r.Code != http.StatusOK || out.Recorded != 3 || len(out.Items) != 3 || out.Items[1].Email != chen {
			t.Fatalf("a good batch = %d %s", r.Code, r.Body)
		}
		if got := lastOf(ana); got == nil || got.Format(time.RFC3339) != later {
			t.Errorf("Ana's last sign-in = %v, want %s (the older event changes nothing)", got, later)
		}
	})
}

func sameInstant(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// A change an integration makes is in the audit log under its token.
func TestIntegrationChangesAreAudited(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	ctx := context.Background()
	tok := &store.IntegrationToken{Name: "certification-system", Scopes: certdesk.Scopes, ExpiresAt: time.Now().Add(time.Hour)}
	bearer := storeIntegration(t, h.store, tok)
	for range 2 {
		if r := h.do("PUT", "/api/v1/integration/certification-profiles/200001", bearer, profileBody()); r.Code >= 300 {
			t.Fatalf("PUT = %d %s", r.Code, r.Body)
		}
	}
	log, err := h.store.AuditLog(ctx, certdesk.IntegrationActor(tok.ID), "", 10)
	if err != nil || len(log) != 1 || log[0].Action != "integration_profile_inserted" {
		t.Fatalf("audit log = %+v, %v; want the insert only (the same record again changed nothing)", log, err)
	}
	if !strings.Contains(string(log[0].Data), `"200001"`) {
		t.Errorf("audit entry %s does not name the MCID", log[0].Data)
	}
}
