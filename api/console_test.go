package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The case page renders each kind's subject from its details: a template
// error would be a user's blank page.
func TestConsoleCasePageOfEachKind(t *testing.T) {
	st := storetest.Seeded(t, "sqlite")
	cfg := devConfig(t, config.ModeDev)
	cfg.TemporalUIURL = "http://temporal-ui.test:8233"
	h := &harness{t: t, store: st, h: api.New(api.Deps{Config: cfg, Store: st})}
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
