package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// chenMerge has Chen ask to merge his duplicates through the API and
// returns the case once it waits for an agent.
func chenMerge(t *testing.T, s *stacktest.Stack) certdesk.Case {
	t.Helper()
	chen := s.Login("chen.wei@outlook.example")
	r := s.Do("POST", "/api/v1/merge-requests", chen, map[string]any{
		"profile_ids": []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")},
		"note":        "both are me",
	})
	if r.Code != http.StatusAccepted {
		t.Fatalf("merge request = %d %s", r.Code, r.Body)
	}
	var cs certdesk.Case
	r.Decode(t, &cs)
	return s.AwaitStatus(cs.ID, certdesk.StatusAwaitingAgent)
}

// An agent signs in, filters the queue to the merge case, approves it and
// sees it completed; a second agent's stale approve is refused with the
// reason shown, next to the fresh state.
func TestBrowserAgentApprovesAMergeAndAStaleApproveIsRefused(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	cs := chenMerge(t, s)

	// Bob opens the case first and starts deciding…
	bob := newBrowser(t, s, "bob")
	bob.signIn("bob.agent@certdesk.example")
	bob.visit("/console/cases/"+cs.ID, "bob-opens-the-case")
	bob.run("bob picks approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)))

	// …while Alice filters the queue, opens it and approves.
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console?view=all", "queue-all")
	alice.navigate("filter to merges",
		chromedp.SetValue(chromedp.CSS(`#kind`), "merge"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	alice.shot("queue-merges")
	if got := alice.text("table.queue tbody"); !contains(got, "Chen Wei") || contains(got, "connect") {
		t.Fatalf("the filtered queue shows %q", got)
	}
	alice.navigate("open the case", chromedp.Click(chromedp.CSS(`table.queue tbody tr a`)))
	alice.waitText("#subject-h", "Subject")
	alice.shot("case-page")
	alice.run("approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)))
	alice.navigate("send the decision", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	alice.waitText("main", "Decision recorded: approve.")
	alice.waitText(".case-head", "completed")
	alice.shot("case-completed")

	// Bob's page saw the change but he was busy deciding: it says so, and
	// sending the stale decision is refused with the reason and the fresh state.
	bob.waitText("#live", "changed since you opened it")
	bob.shot("bob-told-the-case-changed")
	bob.navigate("bob sends his stale approve", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	bob.waitText("#refusal", "the case is completed")
	bob.waitText(".case-head", "completed")
	bob.shot("bob-refused")
	if n := len(bob.nodes(`form.decision`)); n != 0 {
		t.Errorf("the refused page still offers a decision (%d forms)", n)
	}

	final, _ := s.Store.Case(context.Background(), cs.ID)
	if final.Status != certdesk.StatusCompleted || final.Resolution != "merged" {
		t.Fatalf("case after the browser run: %s/%s", final.Status, final.Resolution)
	}
}
