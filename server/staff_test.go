package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// Supervisors see the staff with their last sign-in and disable an agent
// from the console: the agent's sessions end at once and their cases go
// back to the queue. Nobody else sees the page or disables anyone.
func TestConsoleStaffPage(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	ctx := context.Background()
	sam, alice, bob := h.login("sam.supervisor@certdesk.example"), h.login("alice.agent@certdesk.example"), h.login("bob.agent@certdesk.example")
	aliceID := store.DemoID("agent:alice.agent@certdesk.example")

	page := h.do("GET", "/console/staff", sam, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("staff page = %d %s", page.Code, page.Body)
	}
	body := string(page.Body)
	for _, want := range []string{"Alice Agent", "bob.agent@certdesk.example", "Sam Supervisor", "manual", "/console/staff/" + aliceID + "/disable"} {
		if !strings.Contains(body, want) {
			t.Errorf("staff page lacks %q", want)
		}
	}
	if strings.Contains(body, "/console/staff/"+store.DemoID("agent:sam.supervisor@certdesk.example")+"/disable") {
		t.Error("the page offers to disable a supervisor")
	}
	if strings.Count(body, " UTC<") != 3 {
		t.Errorf("the page shows %d last sign-ins, want 3 (Alice, Bob and Sam signed in)", strings.Count(body, " UTC<"))
	}
	for _, who := range []string{alice, ""} {
		if r := h.do("GET", "/console/staff", who, nil); r.Code == http.StatusOK {
			t.Errorf("the staff page answered %d to a non-supervisor", r.Code)
		}
		if r := h.do("POST", "/console/staff/"+aliceID+"/disable", who, nil); r.Header.Get("Location") == "/console/staff?done=disabled" {
			t.Errorf("a non-supervisor disabled Alice")
		}
	}

	// Alice holds a case.
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Requester: certdesk.ActorSystem, WorkflowID: "w"}
	if _, err := h.store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.store.ChangeCase(ctx, store.Change{CaseID: c.ID, Assignee: &aliceID, Event: store.Event{Actor: certdesk.AgentActor(aliceID), Type: certdesk.EventClaimed}}); err != nil {
		t.Fatal(err)
	}
	if r := h.do("POST", "/console/staff/"+aliceID+"/disable", sam, nil); r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/console/staff?done=disabled" {
		t.Fatalf("disable Alice = %d %s", r.Code, r.Header.Get("Location"))
	}
	if r := h.do("GET", "/api/v1/me", alice, nil); r.Code != http.StatusUnauthorized {
		t.Errorf("Alice's session after she was disabled = %d, want 401", r.Code)
	}
	if r := h.do("POST", "/dev/login", "", map[string]string{"email": "alice.agent@certdesk.example"}); r.Code != http.StatusForbidden {
		t.Errorf("Alice signing in again = %d, want 403", r.Code)
	}
	if got, _ := h.store.Case(ctx, c.ID); got.AssigneeID != nil {
		t.Errorf("Alice's case is still assigned to %v", *got.AssigneeID)
	}
	if r := h.do("GET", "/api/v1/me", bob, nil); r.Code != http.StatusOK {
		t.Errorf("Bob's session = %d: disabling Alice touched him", r.Code)
	}
	if body := string(h.do("GET", "/console/staff?done=disabled", sam, nil).Body); !strings.Contains(body, "disabled") || strings.Contains(body, "/console/staff/"+aliceID+"/disable") {
		t.Error("the staff page does not show Alice disabled")
	}
	// A supervisor is disabled from the command line, not the console;
	// nobody is disabled twice or made up.
	for path, want := range map[string]int{
		"/console/staff/" + store.DemoID("agent:sam.supervisor@certdesk.example") + "/disable": http.StatusForbidden,
		"/console/staff/" + certdesk.NewID() + "/disable":                                      http.StatusNotFound,
		"/console/staff/" + aliceID + "/disable":                                               http.StatusSeeOther,
	} {
		if r := h.do("POST", path, sam, nil); r.Code != want {
			t.Errorf("POST %s = %d, want %d", path, r.Code, want)
		}
	}
	log, _ := h.store.AuditLog(ctx, certdesk.AgentActor(store.DemoID("agent:sam.supervisor@certdesk.example")), "", 20)
	found := false
	for _, e := range log {
		found = found || e.Action == "disable_staff"
	}
	if !found {
		t.Error("the disable is not in the audit log")
	}
}
