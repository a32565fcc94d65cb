package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A claim binds: an agent cannot decide a case another agent claimed, with
// any decision, until they take it over explicitly (recorded, naming the
// previous holder); a supervisor decides any case.
func TestClaimsBindDecisions(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	alice, bob, sam := s.Login("alice.agent@certdesk.example"), s.Login("bob.agent@certdesk.example"), s.Login("sam.supervisor@certdesk.example")
	chen := s.Login(chenEmail)

	// A merge (approve, reject) and a recovery (approve, reject,
	// request_info), each claimed by Alice.
	merge := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	recovery := verifiedRequest(t, s)
	for _, id := range []string{merge.ID, recovery} {
		if r := s.Do("POST", "/api/v1/cases/"+id+"/claim", alice, nil); r.Code != http.StatusOK {
			t.Fatalf("Alice claims %s: %d %s", id, r.Code, r.Body)
		}
	}
	refused := []struct {
		id   string
		body map[string]string
	}{
		{merge.ID, map[string]string{"decision": "approve"}},
		{merge.ID, map[string]string{"decision": "reject", "note": "not the same person"}},
		{recovery, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}},
		{recovery, map[string]string{"decision": "reject", "note": "no"}},
		{recovery, map[string]string{"decision": "request_info", "note": "which exams?"}},
	}
	for _, tc := range refused {
		before, _ := s.Store.Case(t.Context(), tc.id)
		r := s.Do("POST", "/api/v1/cases/"+tc.id+"/decision", bob, tc.body)
		if r.Code != http.StatusConflict || !strings.Contains(errorMessage(t, r), "Alice") {
			t.Errorf("Bob's %s on Alice's case = %d %s, want 409 naming her", tc.body["decision"], r.Code, r.Body)
		}
		if after, _ := s.Store.Case(t.Context(), tc.id); after.Version != before.Version || after.Status != before.Status {
			t.Errorf("a refused decision changed the case: %d → %d", before.Version, after.Version)
		}
	}
	// The console says why and offers the take-over instead of the form.
	page := string(s.Do("GET", "/console/cases/"+merge.ID, bob, nil).Body)
	if !strings.Contains(page, "Take over from Alice") || strings.Contains(page, `class="decision"`) {
		t.Errorf("Bob's console page of Alice's case offers no take-over, or still offers the decision form")
	}
	// A plain claim does not take it; an explicit take-over does, on the record.
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/claim", bob, nil); r.Code != http.StatusConflict {
		t.Errorf("Bob's plain claim of Alice's case = %d, want 409", r.Code)
	}
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/claim", bob, map[string]any{"take_over": true}); r.Code != http.StatusOK {
		t.Fatalf("Bob takes over: %d %s", r.Code, r.Body)
	}
	evs := timeline(t, s, bob, merge.ID)
	last := evs[len(evs)-1]
	if last.Type != "taken_over" || last.Actor != certdesk.AgentActor(store.DemoID("agent:bob.agent@certdesk.example")) ||
		!strings.Contains(string(last.Data), store.DemoID("agent:alice.agent@certdesk.example")) {
		t.Errorf("take-over recorded as %s by %s: %s", last.Type, last.Actor, last.Data)
	}
	decide(t, s, bob, merge.ID, map[string]string{"decision": "approve", "note": "same person"}, http.StatusOK)
	s.AwaitStatus(merge.ID, certdesk.StatusCompleted)

	// A supervisor decides a case an agent holds.
	decide(t, s, sam, recovery, map[string]string{"decision": "reject", "note": "the evidence is too weak"}, http.StatusOK)
	s.AwaitStatus(recovery, certdesk.StatusRejected)
	if m := s.AwaitMail("dara.m@proton.example", mail.RecoveryRejected); m.CaseID != recovery {
		t.Errorf("rejection mail %+v", m)
	}
	if types := eventTypes(t, s, sam, recovery); !slices.Contains(types, "claimed") || !slices.Contains(types, "rejected") {
		t.Errorf("timeline %q", types)
	}
}

// A refused decision is answered in words for the agent: the validator's
// reason when the case refuses it, a plain sentence when the engine does
// (a case that takes no decision), never Temporal's own text.
func TestDecisionRefusalsInPlainWords(t *testing.T) {
	s := start(t)
	alice := s.Login("alice.agent@certdesk.example")
	ben := s.Login("ben.okafor@contoso.example")
	c := requestConnect(t, s, ben)
	s.AwaitStatus(c.ID, certdesk.StatusAwaitingLearner)
	for _, d := range []map[string]string{
		{"decision": "approve"}, {"decision": "reject", "note": "x"}, {"decision": "request_info", "note": "x"},
	} {
		r := s.Do("POST", "/api/v1/cases/"+c.ID+"/decision", alice, d)
		msg := errorMessage(t, r)
		if r.Code != http.StatusConflict || strings.Contains(msg, "update") || strings.Contains(msg, "Known") || !strings.Contains(msg, "not awaiting a decision") {
			t.Errorf("%s on a connect case = %d %q, want 409 in plain words", d["decision"], r.Code, msg)
		}
	}
	// The validator's own reasons come through as written.
	merge := requestMerge(t, s, alice, map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/decision", alice, map[string]string{"decision": "approve"})
	if msg := errorMessage(t, r); r.Code != http.StatusConflict || !strings.Contains(msg, "four eyes") {
		t.Errorf("four-eyes refusal = %d %q", r.Code, msg)
	}
	r = s.Do("POST", "/api/v1/cases/"+merge.ID+"/decision", alice, map[string]string{"decision": "reject"})
	if msg := errorMessage(t, r); r.Code != http.StatusConflict || !strings.Contains(msg, "needs a note") {
		t.Errorf("rejection without a note = %d %q", r.Code, msg)
	}
}
