package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

type openapiOp struct {
	Method, Path string
	Access       string
	Example      any
	Responses    map[int]bool
}

// operations reads the OpenAPI document.
func operations(t *testing.T) []openapiOp {
	t.Helper()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Access      string `json:"x-certdesk-access"`
			RequestBody struct {
				Content map[string]struct {
					Example any `json:"example"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var ops []openapiOp
	for path, methods := range doc.Paths {
		for m, op := range methods {
			o := openapiOp{Method: strings.ToUpper(m), Path: "/api/v1" + path, Access: op.Access, Responses: map[int]bool{}}
			if c, ok := op.RequestBody.Content["application/json"]; ok {
				o.Example = c.Example
			}
			for code := range op.Responses {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Fatalf("%s %s: response %q is not a status", o.Method, path, code)
				}
				o.Responses[n] = true
			}
			if o.Access == "" {
				t.Errorf("%s %s says nothing of who may call it (x-certdesk-access)", o.Method, path)
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+ops[i].Method < ops[j].Path+ops[j].Method })
	return ops
}

// Every /api/v1 route is documented and every documented operation is a
// route, in dev mode (which adds the dev routes) and in production.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	documented := map[string]string{}
	for _, o := range operations(t) {
		documented[o.Method+" "+o.Path] = o.Access
	}
	for _, mode := range []config.Mode{config.ModeDev, config.ModeProduction} {
		srv := server.New(server.Deps{Config: devConfig(t, mode), Store: storetest.Open(t, "sqlite")})
		registered := map[string]bool{}
		for _, r := range srv.Routes() {
			if !strings.HasPrefix(r.Path, "/api/v1/") {
				continue
			}
			path := r.Path
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, ":") {
					path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
				}
			}
			key := r.Method + " " + path
			registered[key] = true
			if _, ok := documented[key]; !ok {
				t.Errorf("%s: %s is registered but not documented in api/openapi.json", mode, key)
			}
		}
		for key, access := range documented {
			devOnly := access == "dev"
			if !registered[key] && (mode == config.ModeDev || !devOnly) {
				t.Errorf("%s: %s is documented but not registered", mode, key)
			}
			if registered[key] && devOnly && mode != config.ModeDev {
				t.Errorf("%s: dev-only %s is registered", mode, key)
			}
		}
	}
}

// The route × role matrix, driven from the document: every operation is
// called by every role (anonymous, a learner, another learner, an agent, a
// supervisor, an integration token without the operation's scope and one
// with every scope), and the answer must be what the operation's access
// says and a status the document lists.
func TestRouteRoleMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	s := stacktest.Start(t, stacktest.Options{})
	ctx := context.Background()
	// Ben's case (he is "the learner"; Ana is "another learner").
	benLP, benAcct := store.DemoID("lp:ben"), store.DemoID("account:ben.okafor@contoso.example")
	bens := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: certdesk.LearnerActor(benAcct),
		LearningProfileID: &benLP, AccountID: &benAcct, WorkflowID: "no-such-workflow"}
	if _, err := s.Store.OpenCase(ctx, &bens, store.Event{Actor: certdesk.LearnerActor(benAcct), Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	roles := []struct {
		name, email string
	}{
		{"anonymous", ""},
		{"learner", "ben.okafor@contoso.example"},
		{"other learner", "ana.silva@outlook.example"},
		{"agent", "alice.agent@certdesk.example"},
		{"supervisor", "sam.supervisor@certdesk.example"},
		{roleIntegrationNoScope, ""},
		{roleIntegration, ""},
	}
	tokens := map[string]string{}
	for _, r := range roles {
		if r.email != "" {
			tokens[r.name] = s.Login(r.email)
		}
	}
	integrations := mintIntegrationTokens(t, s.Store)
	calls := map[int]int{}
	defer func() {
		t.Logf("matrix: %d operations × %d roles, statuses %v", len(operations(t)), len(roles), calls)
	}()
	for _, op := range operations(t) {
		for _, role := range roles {
			token := tokens[role.name]
			if role.name == roleIntegration || role.name == roleIntegrationNoScope {
				token = integrations.token(role.name, op.Access)
			}
			r := s.Do(op.Method, examplePath(op.Path, bens.ID, benLP), token, exampleBody(op))
			calls[r.Code]++
			want := expected(op.Access, role.name)
			name := op.Method + " " + op.Path + " as " + role.name
			switch {
			case want == 0 && (r.Code == 401 || r.Code == 403 || r.Code >= 500 && r.Code != 503):
				t.Errorf("%s = %d %s; the role may call it", name, r.Code, r.Body)
			case want != 0 && r.Code != want:
				t.Errorf("%s = %d %s, want %d", name, r.Code, r.Body, want)
			}
			if !op.Responses[r.Code] && r.Code != 429 {
				t.Errorf("%s answered %d, which the document does not list", name, r.Code)
			}
		}
	}
}

// expected is the status an access rule gives a role that may not call the
// operation, or 0 when the role may.
func expected(access, role string) int {
	staff := role == "agent" || role == "supervisor"
	learner := role == "learner" || role == "other learner"
	integration := role == roleIntegration || role == roleIntegrationNoScope
	scoped := strings.HasPrefix(access, "integration:")
	switch {
	case scoped && role == "anonymous":
		return http.StatusUnauthorized
	case scoped && role == roleIntegration:
		return 0
	case scoped, integration:
		// Only an integration token with the scope opens the integration
		// API, and an integration token opens nothing else.
		return http.StatusForbidden
	}
	switch access {
	case "public", "dev":
		return 0
	}
	if role == "anonymous" {
		return http.StatusUnauthorized
	}
	switch access {
	case "signed-in":
		return 0
	case "learner":
		if staff {
			return http.StatusForbidden
		}
	case "staff":
		if learner {
			return http.StatusForbidden
		}
	case "supervisor":
		if role != "supervisor" {
			return http.StatusForbidden
		}
	case "owner-or-staff":
		if role == "other learner" {
			return http.StatusNotFound
		}
	case "own-learning-profile":
		if staff {
			return http.StatusForbidden
		}
		if role == "other learner" {
			return http.StatusNotFound
		}
	}
	return 0
}
