package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
)

// No answer is kept by a browser or a proxy (Cache-Control: no-store), on
// every route, signed in or not, whatever the status; only what is the same
// for everyone may be cached: static assets, health, metrics and the
// OpenAPI document.
func TestEveryAnswerWithPersonalDataIsNoStore(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "nostore-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	cacheable := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/openapi.json": true, "/static/app.css": true, "/static/app.js": true}
	params := strings.NewReplacer(":id", cs.ID, ":token", "abc", ":action", "notes", ":op", "encode", "*filepath", "app.css")
	var paths []struct{ method, path string }
	for _, r := range h.h.(*server.Server).Routes() {
		paths = append(paths, struct{ method, path string }{r.Method, params.Replace(r.Path)})
	}
	paths = append(paths, struct{ method, path string }{"GET", "/static/app.js"}, struct{ method, path string }{"GET", "/no/such/page"},
		struct{ method, path string }{"DELETE", "/api/v1/me"})
	if len(paths) < 30 {
		t.Fatalf("only %d routes", len(paths))
	}
	for _, who := range []string{"", "alice.agent@certdesk.example", "ben.okafor@contoso.example"} {
		token := ""
		for _, p := range paths {
			if who != "" && token == "" {
				token = h.login(who)
			}
			r := h.do(p.method, p.path, token, nil)
			if p.path == "/logout" {
				token = "" // it ended the session
			}
			got := r.Header.Get("Cache-Control")
			switch {
			case cacheable[p.path] && got == "no-store":
				t.Errorf("%s %s (%s) = %d with no-store; it is the same for everyone", p.method, p.path, who, r.Code)
			case !cacheable[p.path] && got != "no-store":
				t.Errorf("%s %s (%s) = %d with Cache-Control %q, want no-store", p.method, p.path, who, r.Code, got)
			}
		}
	}
}
