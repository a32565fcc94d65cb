package e2e_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// axePage is a page the accessibility walk opens, with its screenshot's name.
type axePage struct{ path, name string }

// axeVisit opens each page, saves its screenshot and runs axe-core on it.
func (b *browser) axeVisit(pages ...axePage) {
	b.t.Helper()
	for _, p := range pages {
		b.visit(p.path, p.name)
		b.axe(p.path)
	}
}

// axe-core's WCAG 2.1 A and AA rules find nothing on any page: the
// console's queue, a case page of each kind, the dashboard, the profile
// lookup, staff and webhooks; the portal and a portal case; the public
// recovery form empty and sent with mistakes; a live link and a used one;
// the dev mailbox and dev sign-in.
func TestBrowserAxeEveryPage(t *testing.T) {
	s := start(t)
	axeScript(t) // skip (or fail in CI) before any case is opened
	ben := requestConnect(t, s, s.Login(benWork))
	addAccount := awaitMailStep(s, benWork, ben.ID, "add-account-1")
	s.AwaitStatus(ben.ID, certdesk.StatusAwaitingLearner)
	merge := chenMerge(t, s)
	question := chenQuestion(t, s)
	recovery := verifiedRequest(t, s)
	verify := s.AwaitMail("dara.m@proton.example", mail.RecoveryVerify)

	b := newBrowser(t, s, "alice")
	b.axeVisit(axePage{"/dev/login", "dev-login"})
	b.signIn("alice.agent@certdesk.example")
	b.axeVisit(
		axePage{"/console", "queue"},
		axePage{"/console?view=all", "queue-all"},
		axePage{"/console/cases/" + ben.ID, "connect"},
		axePage{"/console/cases/" + merge.ID, "merge"},
		axePage{"/console/cases/" + question.ID, "inquiry"},
		axePage{"/console/cases/" + recovery, "recovery"},
		axePage{"/console/profiles", "profiles"},
		axePage{"/console/profiles?q=chen", "profiles-chen"},
		axePage{"/console/profiles/" + store.DemoID("profile:100003"), "profile"},
		axePage{"/console/cases/nope", "not-found"},
		axePage{"/dev/mail", "mailbox"},
		axePage{"/dev/mail/" + verify.ID, "mail-message"},
		axePage{"/dev/webhooks", "dev-receiver"},
	)

	// The merge done, a supervisor's pages and the undo case.
	decide(t, s, s.Login("alice.agent@certdesk.example"), merge.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	s.AwaitStatus(merge.ID, certdesk.StatusCompleted)
	undo, _ := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "Two different people.", http.StatusAccepted)
	s.AwaitStatus(undo.ID, certdesk.StatusAwaitingAgent)
	b.axeVisit(axePage{"/console/cases/" + undo.ID, "unmerge"})
	b.signIn("sam.supervisor@certdesk.example")
	b.axeVisit(
		axePage{"/console/cases/" + merge.ID, "merge-done"},
		axePage{"/console/dashboard", "dashboard"},
		axePage{"/console/staff", "staff"},
		axePage{"/console/webhooks", "webhooks"},
		axePage{"/console/canned", "canned"},
	)
	if ids := b.eval(`Array.from(document.querySelectorAll('a[href^="/console/webhooks/events/"]')).map(a => a.getAttribute("href"))[0] || ""`); ids != "" {
		b.axeVisit(axePage{ids, "webhook-event"})
	}

	// The learners' side.
	b.signIn(benWork)
	b.axeVisit(axePage{"/portal", "portal"}, axePage{"/portal/cases/" + ben.ID, "portal-case"})
	b.signIn(chenEmail)
	b.axeVisit(axePage{"/portal/cases/" + question.ID, "portal-question"})
	b.axeVisit(
		axePage{addAccount.Link(t), "link-live"},
		axePage{verify.Link(t), "link-used"},
		axePage{"/portal/recovery", "recovery-form"},
	)
	b.navigate("send the form empty", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("#error-summary", "")
	b.shot("recovery-form-errors")
	b.axe("/portal/recovery with errors")
}
