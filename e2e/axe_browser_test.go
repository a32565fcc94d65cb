package e2e_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// walkEveryPage opens a case of every kind and walks b through every page
// a person sees: the console's queue, a case page of each kind, the profile
// lookup, the dashboard, staff, webhooks, canned responses and privacy; the portal
// and its case pages; a live link and a used one; the public recovery form
// empty and sent with mistakes; the dev mailbox and dev sign-in. On each it
// saves a screenshot and calls check with the page's path.
func walkEveryPage(t *testing.T, s *stacktest.Stack, b *browser, check func(path string)) {
	t.Helper()
	ben := requestConnect(t, s, s.Login(benWork))
	addAccount := awaitMailStep(s, benWork, ben.ID, "add-account-1")
	s.AwaitStatus(ben.ID, certdesk.StatusAwaitingLearner)
	merge := chenMerge(t, s)
	question := chenQuestion(t, s)
	recovery := verifiedRequest(t, s)
	verify := s.AwaitMail("dara.m@proton.example", mail.RecoveryVerify)
	visit := func(paths ...string) {
		t.Helper()
		for i := 0; i < len(paths); i += 2 {
			b.visit(paths[i], paths[i+1])
			check(paths[i])
		}
	}

	visit("/dev/login", "dev-login")
	b.signIn("alice.agent@certdesk.example")
	visit("/console", "queue", "/console?view=all", "queue-all",
		"/console/cases/"+ben.ID, "connect",
		"/console/cases/"+merge.ID, "merge",
		"/console/cases/"+question.ID, "inquiry",
		"/console/cases/"+recovery, "recovery",
		"/console/profiles", "profiles",
		"/console/profiles?q=chen", "profiles-chen",
		"/console/profiles/"+store.DemoID("profile:100003"), "profile",
		"/console/notices", "notices",
		"/console/cases/nope", "not-found",
		"/dev/mail", "mailbox",
		"/dev/mail/"+verify.ID, "mail-message",
		"/dev/webhooks", "dev-receiver")

	// The merge done, its undo case, and a supervisor's pages.
	decide(t, s, s.Login("alice.agent@certdesk.example"), merge.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	s.AwaitStatus(merge.ID, certdesk.StatusCompleted)
	undo, _ := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "Two different people.", http.StatusAccepted)
	s.AwaitStatus(undo.ID, certdesk.StatusAwaitingAgent)
	visit("/console/cases/"+undo.ID, "unmerge")
	b.signIn("sam.supervisor@certdesk.example")
	visit("/console/cases/"+merge.ID, "merge-done",
		"/console/dashboard", "dashboard",
		"/console/staff", "staff",
		"/console/webhooks", "webhooks",
		"/console/canned", "canned",
		"/console/privacy", "privacy")
	if event := b.eval(`(document.querySelector('a[href^="/console/webhooks/events/"]') || {getAttribute: () => ""}).getAttribute("href")`); event != "" {
		visit(event, "webhook-event")
	}

	// The learners' side.
	b.signIn(benWork)
	visit("/portal", "portal", "/portal/cases/"+ben.ID, "portal-case")
	b.signIn(chenEmail)
	visit("/portal/cases/"+question.ID, "portal-question",
		addAccount.Link(t), "link-live",
		verify.Link(t), "link-used",
		"/portal/recovery", "recovery-form")
	b.navigate("send the form empty", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("#error-summary", "")
	b.shot("recovery-form-errors")
	check("/portal/recovery with errors")
}

// axe-core's WCAG 2.1 A and AA rules find nothing on any page.
func TestBrowserAxeEveryPage(t *testing.T) {
	s := start(t)
	axeScript(t) // skip (or fail in CI) before any case is opened
	b := newBrowser(t, s, "alice")
	walkEveryPage(t, s, b, b.axe)

	// The keys' help, open over the queue.
	b.signIn("alice.agent@certdesk.example")
	b.visit("/console", "queue-again")
	b.press("?")
	b.waitText("#keys-help", "Keyboard shortcuts")
	b.shot("keys-help")
	b.axe("/console with the keys' help open")
}
