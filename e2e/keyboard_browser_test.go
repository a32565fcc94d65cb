package e2e_test

import (
	"net/http"
	"testing"

	"github.com/certdesk/certdesk"
)

// An agent who uses no mouse signs in, opens a merge from the queue and
// approves it with Tab, Space and Enter alone, seeing where the focus is at
// every stop.
func TestBrowserKeyboardOnlyApproval(t *testing.T) {
	s := start(t)
	cs := chenMerge(t, s)
	b := newBrowser(t, s, "alice")
	b.focusedWindow()
	b.visit("/dev/login", "dev-login")

	b.tabTo(`input[value="alice.agent@certdesk.example"] ~ button`, 40)
	b.focusShows("Alice's sign-in button")
	b.navigate("sign in with Enter", key('\r'))
	b.waitText("h1", "Cases")

	b.tabTo(`table.queue a[href="/console/cases/`+cs.ID+`"]`, 80)
	b.focusShows("the case's link in the queue")
	b.navigate("open the case with Enter", key('\r'))
	b.waitText("#subject-h", "Subject")

	b.tabTo(`form.decision input[name=decision]`, 80)
	b.focusShows("the decision's first choice")
	b.press(keySpace)
	for range 3 {
		if b.eval(`document.querySelector("form.decision input[value=approve]").checked`) == "true" {
			break
		}
		b.press(keyArrowDown)
	}
	if b.eval(`document.querySelector("form.decision input[value=approve]").checked`) != "true" {
		t.Fatalf("Space and the arrows never chose approve")
	}
	b.shot("approve-chosen")
	b.tabTo(`form.decision button[type=submit]`, 10)
	b.focusShows("Send decision")
	b.navigate("send the decision with Enter", key('\r'))
	b.waitText("main", "Decision recorded: approve.")
	b.waitText(".case-head", "completed")
	b.shot("approved")
	if c := s.AwaitStatus(cs.ID, certdesk.StatusCompleted); c.Resolution != certdesk.MergeMerged {
		t.Errorf("the merge ended %s", c.Resolution)
	}
}

// Someone who lost their account fills the public recovery form with the
// keyboard: sent empty, the error summary takes the focus and its links
// lead to the fields; filled in, the form is sent and says what comes next.
func TestBrowserKeyboardOnlyRecoveryForm(t *testing.T) {
	s := start(t)
	b := newBrowser(t, s, "dara")
	b.focusedWindow()
	b.visit("/portal/recovery", "form")

	b.tabTo(`form button[type=submit]`, 40)
	b.focusShows("Send my request")
	if code := b.navigate("send it empty with Enter", key('\r')); code != http.StatusBadRequest {
		t.Fatalf("the empty form answered %d, want 400", code)
	}
	b.waitText("#error-summary", "Some fields need another look")
	if id := b.focused(); id != "error-summary" {
		t.Fatalf("after sending, the focus is on %q, want the error summary", id)
	}
	b.focusShows("the error summary")
	b.shot("errors")
	b.tabTo(`#error-summary a[href="#legal_name"]`, 3)
	b.focusShows("the summary's first link")
	b.press(keyEnter)
	if id := b.focused(); id != "legal_name" {
		t.Fatalf("the summary's link put the focus on %q, want legal_name", id)
	}
	b.focusShows("the legal name field")

	for _, f := range []struct{ id, text string }{
		{"legal_name", "Dara Murphy"}, {"contact_email", "dara.m@proton.example"}, {"mcid", "100005"},
		{"previous_email", "dara.murphy@outlook.example"}, {"new_account_email", "dara.m@proton.example"},
		{"description", "My old Outlook account was closed."},
	} {
		if b.focused() != f.id {
			b.tabTo("#"+f.id, 3)
		}
		b.focusShows(f.id)
		b.press(f.text)
	}
	b.tabTo(`form button[type=submit]`, 3)
	b.shot("filled")
	if code := b.navigate("send it with Enter", key('\r')); code != http.StatusAccepted {
		t.Fatalf("the filled form answered %d, want 202", code)
	}
	b.waitText("h1", "Thank you")
	b.waitText("#confirmation", "We have sent an email to the contact address")
	b.shot("sent")
}
