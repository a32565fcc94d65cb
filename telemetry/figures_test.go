package telemetry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// fakeFigures is the store, counting its reads.
type fakeFigures struct {
	f     store.Figures
	err   error
	reads int
}

func (s *fakeFigures) Figures(context.Context) (store.Figures, error) {
	s.reads++
	return s.f, s.err
}

var sample = store.Figures{
	OpenCases: []store.OpenCases{
		{Kind: certdesk.KindConnect, Status: certdesk.StatusAwaitingLearner, N: 3},
		{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, N: 2},
		{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Escalated: true, N: 1},
		{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Escalated: true, PastSLA: true, N: 4},
	},
	Emails:     []store.EmailCount{{Kind: "connect_done", Status: "sent", N: 7}, {Kind: "recovery_verify", Status: "bounced", N: 1}},
	LinksUsed:  []store.LinkCount{{Purpose: "verify", N: 5}},
	Deliveries: []store.DeliveryCount{{Status: "pending", N: 2}, {Status: "delivered", N: 9}},
}

// The store's figures become the certdesk_ series, summed over the flags
// they are not labelled by; escalated and past-SLA are 0 (not absent) for
// a kind with open cases.
func TestFiguresSeries(t *testing.T) {
	src := &fakeFigures{f: sample}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewFiguresCollector(src, FiguresTTL))
	compare(t, reg, `
certdesk_cases_open{kind="connect",status="awaiting_learner"} 3
certdesk_cases_open{kind="merge",status="awaiting_agent"} 7
certdesk_cases_escalated{kind="connect"} 0
certdesk_cases_escalated{kind="merge"} 5
certdesk_cases_past_sla{kind="connect"} 0
certdesk_cases_past_sla{kind="merge"} 4
certdesk_emails{kind="connect_done",status="sent"} 7
certdesk_emails{kind="recovery_verify",status="bounced"} 1
certdesk_links_used_total{purpose="verify"} 5
certdesk_webhook_deliveries{status="delivered"} 9
certdesk_webhook_deliveries{status="pending"} 2
certdesk_store_figures_up 1
`, "certdesk_cases_open", "certdesk_cases_escalated", "certdesk_cases_past_sla", "certdesk_emails",
		"certdesk_links_used_total", "certdesk_webhook_deliveries", "certdesk_store_figures_up")
	text := scrape(t, reg)
	for _, want := range []string{"# TYPE certdesk_links_used_total counter", "# TYPE certdesk_cases_open gauge", "not the api", "aggregate with max"} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape does not say %q", want)
		}
	}
}

// Scrapes within the TTL cost no query; a failed read says so
// (certdesk_store_figures_up 0, no stale figures) and the next scrape
// reads again.
func TestFiguresCacheAndFailure(t *testing.T) {
	src := &fakeFigures{f: sample}
	now := time.Now()
	c := NewFiguresCollector(src, FiguresTTL).(*figures)
	c.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	for range 3 {
		scrape(t, reg)
	}
	if src.reads != 1 {
		t.Fatalf("3 scrapes within the TTL read the store %d times, want 1", src.reads)
	}
	now = now.Add(FiguresTTL)
	src.err = errors.New("connection refused")
	text := scrape(t, reg)
	if src.reads != 2 || !strings.Contains(text, "certdesk_store_figures_up 0") || strings.Contains(text, "certdesk_cases_open{") {
		t.Fatalf("after the TTL with the database away (%d reads):\n%s", src.reads, text)
	}
	src.err = nil
	if text := scrape(t, reg); src.reads != 3 || !strings.Contains(text, "certdesk_store_figures_up 1") ||
		!strings.Contains(text, `certdesk_cases_open{kind="connect",status="awaiting_learner"} 3`) {
		t.Fatalf("after the database came back (%d reads):\n%s", src.reads, text)
	}
}
