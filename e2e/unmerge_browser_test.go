package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
)

// Chen's merge was a mistake: Sam, a supervisor, undoes it from the merge
// case's page and lands on the undo case, which he cannot approve himself;
// Alice approves it in her browser; both profiles are as before the merge
// and the merge's page says who undid it. An agent is never offered the
// undo.
func TestBrowserSupervisorUndoesAMerge(t *testing.T) {
	s := start(t)
	before := profileRecords(t, s)
	merge := chensMerge(t, s)

	// Bob, an agent, sees no undo on the completed merge.
	bob := newBrowser(t, s, "bob")
	bob.signIn("bob.agent@certdesk.example")
	bob.visit("/console/cases/"+merge.ID, "merge-as-agent")
	if n := len(bob.nodes(`#undo, #undo-note`)); n != 0 {
		t.Fatalf("an agent is offered the undo (%d nodes)", n)
	}

	// Sam asks, with a reason: the form is required.
	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	sam.visit("/console/cases/"+merge.ID, "merge-as-supervisor")
	sam.waitText("#undo", "Undo this merge")
	sam.run("say why", chromedp.SendKeys(chromedp.CSS(`#undo-note`), "Two different people named Chen Wei."))
	if code := sam.navigate("ask to undo", chromedp.Click(chromedp.CSS(`#undo button[type=submit]`))); code != http.StatusOK {
		t.Fatalf("the undo answered %d", code)
	}
	sam.waitText("main", "Undo requested")
	unID := strings.TrimPrefix(strings.SplitN(sam.path(), "?", 2)[0], "/console/cases/")
	if unID == merge.ID || unID == "" {
		t.Fatalf("Sam landed on %s", sam.path())
	}
	un := s.AwaitStatus(unID, certdesk.StatusAwaitingAgent)
	if un.Kind != certdesk.KindUnmerge {
		t.Fatalf("the undo case is a %s", un.Kind)
	}
	sam.visit("/console/cases/"+unID, "undo-case-as-requester")
	sam.waitText("#subject-h + p", "Undoes")
	sam.waitText(".subject", "What approving restores")
	sam.waitText(".subject", "MCID 100003")
	sam.waitText(".subject", "Two different people named Chen Wei.")
	if got := sam.nodes(`input[name=decision][value=approve]`); len(got) != 0 {
		t.Errorf("Sam is offered to approve his own undo")
	}

	// The merge's page now points at the open undo; no second form.
	sam.visit("/console/cases/"+merge.ID, "merge-with-open-undo")
	sam.waitText("#undo", "waiting for its approval")
	if n := len(sam.nodes(`#undo-note`)); n != 0 {
		t.Errorf("the merge still offers a second undo")
	}

	// Alice approves.
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+unID, "undo-case")
	alice.run("approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)))
	alice.navigate("send the decision", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	alice.waitText("main", "Decision recorded: approve.")
	s.AwaitStatus(unID, certdesk.StatusCompleted)
	alice.visit("/console/cases/"+unID, "undo-done")
	alice.waitText(".subject", "Undone: 1 profile restored, 2 certifications and 2 exam results returned, 1 duplicate made its own again.")

	diffRecords(t, profileRecords(t, s), before)

	sam.visit("/console/cases/"+merge.ID, "merge-undone")
	sam.waitText("#undo", "Undone by case "+unID)
	final, err := s.Store.Case(context.Background(), merge.ID)
	mustStore(t, err)
	if final.Status != certdesk.StatusCompleted || final.Resolution != certdesk.MergeMerged {
		t.Errorf("the merge case now reads %s/%s", final.Status, final.Resolution)
	}
}
