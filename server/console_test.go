package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The case page renders each kind's subject from its details: a template
// error would be a user's blank page.
func TestConsoleCasePageOfEachKind(t *testing.T) {
	st := storetest.Seeded(t, "sqlite")
	cfg := devConfig(t, config.ModeDev)
	cfg.TemporalUIURL = "http://temporal-ui.test:8233"
	h := &harness{t: t, store: st, h: server.New(server.Deps{Config: cfg, Store: st})}
	alice := h.login("alice.agent@certdesk.example")
	until := time.Now().Add(time.Hour)
	kinds := []struct {
		kind    certdesk.Kind
		status  certdesk.Status
		details any
		shows   []string
	}{
		{certdesk.KindConnect, certdesk.StatusAwaitingLearner, certdesk.ConnectDetails{
			Accounts:   []certdesk.ConnectAccount{{Email: "ben.okafor@contoso.example", Kind: "work", Status: "active"}},
			WaitingFor: certdesk.WaitPersonalAccount, WaitUntil: &until,
		}, []string{"ben.okafor@contoso.example", "add their personal account"}},
		{certdesk.KindMerge, certdesk.StatusAwaitingAgent, certdesk.MergeDetails{
			TargetMCID: "100004", TargetReason: certdesk.TargetOldest, NamesMatch: false,
			Profiles: []certdesk.MergeProfile{{MCID: "100003", LegalName: "Chen Wei"}, {MCID: "100004", LegalName: "Chen  Wu", Target: true}},
		}, []string{"Check the names", "MCID 100004", "the oldest profile"}},
		{certdesk.KindRecovery, certdesk.StatusAwaitingAgent, certdesk.RecoveryDetails{
			Claim:    certdesk.RecoveryClaim{LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", NewAccountEmail: "dara.m@proton.example", Description: "lost it"},
			Verified: true, NewAccount: &certdesk.RecoveryNewAccount{Email: "dara.m@proton.example"},
			Candidates: []certdesk.RecoveryCandidate{{ProfileID: "p", MCID: "100005", LegalName: "Dara Murphy", Strength: certdesk.StrengthStrong,
				Evidence: []certdesk.Evidence{{Kind: certdesk.EvidenceMCID, Detail: "the MCID given is this profile's"}}}},
			InfoRequests: []certdesk.InfoRequest{{Round: 1, Message: "Which exams?", AskedAt: time.Now()}},
		}, []string{"contact address confirmed", "strong evidence", "the MCID given is this profile&#39;s", "Which exams?", "new to us"}},
	}
	for _, k := range kinds {
		raw, _ := json.Marshal(k.details)
		c := certdesk.Case{ID: certdesk.NewID(), Kind: k.kind, Status: k.status, Subject: "subject", Requester: certdesk.ActorSystem, WorkflowID: "w", Details: raw}
		if _, err := h.store.OpenCase(context.Background(), &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		r := h.do("GET", "/console/cases/"+c.ID, alice, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("%s page = %d %s", k.kind, r.Code, r.Body)
		}
		link := "http://temporal-ui.test:8233/namespaces/default/workflows/w/" + c.RunID + "/history"
		for _, want := range append(k.shows, link) {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("%s page does not show %q", k.kind, want)
			}
		}
	}
}

// The queue's views and filters show the right rows, overdue in red.
func TestConsoleQueueViewsAndFilters(t *testing.T) {
	h := newHarness(t, "postgres", nil)
	ctx := context.Background()
	alice := h.login("alice.agent@certdesk.example")
	aliceID := store.DemoID("agent:alice.agent@certdesk.example")
	past, future := time.Now().Add(-time.Hour), time.Now().Add(5*time.Hour)
	open := func(subject, email, mcids string, kind certdesk.Kind, status certdesk.Status, assignee *string, due *time.Time, escalated bool) {
		c := certdesk.Case{ID: certdesk.NewID(), Kind: kind, Status: status, Subject: subject, LearnerName: subject, LearnerEmail: email,
			MCIDs: strings.Fields(mcids), Requester: certdesk.ActorSystem, WorkflowID: "w", AssigneeID: assignee, SLADueAt: due, Escalated: escalated}
		if _, err := h.store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	open("Mine Overdue", "mine@x.example", "200001", certdesk.KindMerge, certdesk.StatusAwaitingAgent, &aliceID, &past, true)
	open("Unassigned Later", "later@x.example", "200002", certdesk.KindRecovery, certdesk.StatusAwaitingAgent, nil, &future, false)
	open("Closed One", "closed@x.example", "200003", certdesk.KindConnect, certdesk.StatusCompleted, nil, nil, false)
	tests := []struct {
		query      string
		shows, not []string
	}{
		{"view=mine", []string{"Mine Overdue"}, []string{"Unassigned Later", "Closed One"}},
		{"view=unassigned", []string{"Unassigned Later"}, []string{"Mine Overdue", "Closed One"}},
		{"view=awaiting", []string{"Mine Overdue", "Unassigned Later"}, []string{"Closed One"}},
		{"view=escalated", []string{"Mine Overdue"}, []string{"Unassigned Later"}},
		{"view=all", []string{"Mine Overdue", "Unassigned Later", "Closed One"}, nil},
		{"view=all&kind=recovery", []string{"Unassigned Later"}, []string{"Mine Overdue", "Closed One"}},
		{"view=all&q=200003", []string{"Closed One"}, []string{"Mine Overdue"}},
		{"view=all&q=LATER%40X", []string{"Unassigned Later"}, []string{"Closed One"}},
		{"view=all&status=completed", []string{"Closed One"}, []string{"Mine Overdue"}},
	}
	for _, tc := range tests {
		r := h.do("GET", "/console?"+tc.query, alice, nil)
		body := string(r.Body)
		if r.Code != http.StatusOK {
			t.Fatalf("%s = %d", tc.query, r.Code)
		}
		for _, s := range tc.shows {
			if !strings.Contains(body, s) {
				t.Errorf("%s does not show %q", tc.query, s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q", tc.query, s)
			}
		}
	}
	// SLA order: the overdue case first, in red.
	body := string(h.do("GET", "/console?view=awaiting&order=sla", alice, nil).Body)
	if i, j := strings.Index(body, "Mine Overdue"), strings.Index(body, "Unassigned Later"); i < 0 || j < 0 || i > j {
		t.Errorf("SLA order puts the overdue case after the later one")
	}
	if !strings.Contains(body, `class="overdue">overdue 1h`) {
		t.Errorf("the overdue case is not marked overdue")
	}
	if r := h.do("GET", "/console?view=all&status=bogus", alice, nil); r.Code != http.StatusBadRequest {
		t.Errorf("a bad filter = %d, want 400", r.Code)
	}
}
