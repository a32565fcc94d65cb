package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// HTTP metrics are recorded under the route template: a case page and a
// link are counted as /console/cases/:id and /l/:token, and neither the
// case id nor the token appears anywhere in /metrics.
func TestHTTPMetricsUseRouteTemplates(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "metrics-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	token, _ := certdesk.NewToken()
	agent := h.login("alice.agent@certdesk.example")
	if r := h.do("GET", "/console/cases/"+cs.ID, agent, nil); r.Code != http.StatusOK {
		t.Fatalf("case page = %d", r.Code)
	}
	h.do("GET", "/l/"+token, "", nil)
	h.do("POST", "/l/"+token, "", nil)
	h.do("GET", "/no/such/"+cs.ID, "", nil)

	r := h.do("GET", "/metrics", "", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("/metrics = %d", r.Code)
	}
	text := string(r.Body)
	for _, want := range []string{
		`certdesk_http_requests_total{method="GET",route="/console/cases/:id",status="200"} 1`,
		`certdesk_http_requests_total{method="GET",route="/l/:token",status="`,
		`certdesk_http_requests_total{method="POST",route="/l/:token",status="`,
		`certdesk_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`certdesk_http_request_duration_seconds_bucket{method="GET",route="/console/cases/:id",le="+Inf"} 1`,
		`certdesk_http_request_duration_seconds_count{method="GET",route="/l/:token"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{cs.ID, token, "alice"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
}

// The api's /metrics has no store figures (its replicas would count them
// once each: workers export them); dev mode's single /metrics, which is
// the worker too, has them, with the Go runtime's metrics beside.
func TestStoreFiguresOnlyInDevMode(t *testing.T) {
	st := storetest.Seeded(t, "sqlite")
	figures := regexp.MustCompile(`(?m)^certdesk_(store_figures_up|cases_open)`)
	for _, tc := range []struct {
		mode config.Mode
		want bool
	}{{config.ModeDev, true}, {config.ModeProduction, false}} {
		srv := server.New(server.Deps{Config: devConfig(t, tc.mode), Store: st})
		h := &harness{t: t, h: srv, store: st}
		r := h.do("GET", "/metrics", "", nil)
		text := string(r.Body)
		if r.Code != http.StatusOK || !strings.Contains(text, "go_goroutines") {
			t.Fatalf("%s /metrics = %d", tc.mode, r.Code)
		}
		if got := figures.MatchString(text); got != tc.want {
			t.Errorf("%s /metrics has the store's figures: %v, want %v", tc.mode, got, tc.want)
		}
	}
}
