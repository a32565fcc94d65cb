package e2e_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A learner connects from the portal and sees the result.
func TestBrowserLearnerConnectsFromThePortal(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	b := newBrowser(t, s, "ana")
	b.signIn("ana.silva@outlook.example")
	if p := b.path(); p != "/portal" {
		t.Fatalf("a learner lands on %s, want /portal", p)
	}
	b.shot("portal-before")
	b.navigate("connect", chromedp.Click(chromedp.CSS(`form[action="/portal/connect"] button`)))
	b.waitText("main", "is connected to your learning profile")
	b.waitText("main", "Completed: connected")
	b.shot("portal-connected")
	p, err := s.Store.CertificationProfileByMCID(context.Background(), "100001")
	if err != nil || p.ConnectedLearningProfileID == nil || *p.ConnectedLearningProfileID != store.DemoID("lp:ana") {
		t.Fatalf("profile 100001 after connecting from the portal: %+v %v", p, err)
	}
}

// A learner who lost access opens a recovery request through the public
// form: field errors first, then the one confirmation, then the mail.
func TestBrowserRecoveryRequestThroughTheForm(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "dara")
	b.visit("/portal/recovery", "form")
	b.run("fill the form with a mistake",
		chromedp.SendKeys(chromedp.CSS("#legal_name"), "Dara Murphy"),
		chromedp.SendKeys(chromedp.CSS("#contact_email"), "dara.m at proton"),
		chromedp.SendKeys(chromedp.CSS("#mcid"), "100005"),
		chromedp.SendKeys(chromedp.CSS("#previous_email"), "dara.murphy@outlook.example"),
		chromedp.SendKeys(chromedp.CSS("#exam"), "MS-900"),
		chromedp.SendKeys(chromedp.CSS("#new_account_email"), "dara.m@proton.example"),
		chromedp.SendKeys(chromedp.CSS("#description"), "My old Outlook account was closed."),
	)
	if code := b.navigate("send", chromedp.Click(chromedp.CSS(`form button[type=submit]`))); code != 400 {
		t.Fatalf("a form with a bad email answered %d, want 400", code)
	}
	b.waitText("#contact_email-error", "Contact email: must be an email address")
	b.shot("field-error")
	if v := b.value("#legal_name"); v != "Dara Murphy" {
		t.Fatalf("the form lost what was typed: legal name %q", v)
	}
	b.run("fix the email", chromedp.SetValue(chromedp.CSS("#contact_email"), "dara.m@proton.example"))
	if code := b.navigate("send again", chromedp.Click(chromedp.CSS(`form button[type=submit]`))); code != 202 {
		t.Fatalf("the corrected form answered %d, want 202", code)
	}
	b.waitText("#confirmation", "We have sent an email to the contact address")
	b.shot("confirmation")
	m := s.AwaitMail("dara.m@proton.example", "recovery_verify")

	// The link from the mail: the page says what it does; the button does it.
	b.visit(m.Link(t), "verify-link")
	b.navigate("confirm", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("main", "with our support team")
	b.shot("verified")

	// An agent sees the claim next to the matched profile, with the
	// evidence and its strength, and approves it for that profile.
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+m.CaseID, "recovery-case")
	alice.waitText(".subject", "strong evidence")
	alice.waitText(".subject", "Dara Murphy")
	alice.run("approve for MCID 100005",
		chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)),
		chromedp.SetValue(chromedp.CSS(`#profile_id`), store.DemoID("profile:100005")))
	alice.navigate("send", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	alice.waitText(".case-head", "cooling off")
	alice.shot("cooling-off")
}
