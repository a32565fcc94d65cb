package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// focused is the id of the element that has the focus.
func (b *browser) focused() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	if err != nil {
		b.t.Fatal(err)
	}
	return id
}

// The recovery form in French on a phone: an empty form answers with a
// summary that takes the focus and links every field to fix.
func TestBrowserLearnerRecoveryFormInFrenchOnAPhone(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "dara")
	b.phone()
	b.visit("/portal/recovery?lang=fr", "form-fr")
	if l := b.lang(); l != "fr" {
		t.Fatalf("<html lang=%q>, want fr", l)
	}
	b.waitText("h1", "Récupérez l’accès à votre profil de certification")
	if code := b.navigate("send it empty", chromedp.Click(chromedp.CSS(`form button[type=submit]`))); code != http.StatusBadRequest {
		t.Fatalf("an empty form answered %d, want 400", code)
	}
	b.shot("errors-fr")
	if l := b.lang(); l != "fr" {
		t.Errorf("after sending, <html lang=%q>, want fr (the choice is remembered)", l)
	}
	b.waitText("#error-summary", "Certains champs sont à revoir")
	if id := b.focused(); id != "error-summary" {
		t.Errorf("the focus is on %q, want the error summary", id)
	}
	for _, f := range []string{"legal_name", "contact_email", "new_account_email", "description"} {
		if len(b.nodes(`#error-summary a[href="#`+f+`"]`)) != 1 {
			t.Errorf("the error summary does not link %s", f)
		}
	}
	b.waitText("#legal_name-error", "Nom légal")
	if n := b.overflow(); n > 0 {
		t.Errorf("at phone width the form is %dpx wider than the screen", n)
	}
	b.run("follow a summary link", chromedp.Click(chromedp.CSS(`#error-summary a[href="#contact_email"]`)))
	if id := b.focused(); id != "contact_email" {
		t.Errorf("the summary's link puts the focus on %q, want contact_email", id)
	}
}

// The link pages say what they are about: the reply page shows the agent's
// question (here in Spanish), the "this wasn't me" page names the profile,
// the new account and the dates; each page leads back.
func TestBrowserLearnerLinksSayWhatTheyAreAbout(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	id := verifiedRequest(t, s)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take, and when?"}, http.StatusOK)
	ask := s.AwaitMail("dara.m@proton.example", mail.RecoveryRequestInfo)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)

	b := newBrowser(t, s, "dara")
	b.phone()
	b.visit(ask.Link(t)+"?lang=es", "reply-es")
	if l := b.lang(); l != "es" {
		t.Fatalf("<html lang=%q>, want es", l)
	}
	b.waitText("main", "El agente pregunta:")
	b.waitText("#question", "Which exams did you take, and when?")
	b.waitText("h1", "Responder al agente")
	b.run("answer", chromedp.SendKeys(chromedp.CSS("#reply"), "AZ-900 in 2021 and MS-900 in 2022."))
	b.navigate("send the answer", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	b.waitText("main", "Tu caso está ahora con nuestro equipo de soporte")
	if len(b.nodes(`a.next[href="/portal"]`)) != 1 {
		t.Errorf("the outcome page does not lead back to the portal")
	}
	b.shot("answered-es")
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)

	bob := s.Login("bob.agent@certdesk.example")
	decide(t, s, bob, id, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}, http.StatusOK)
	s.AwaitStatus(id, certdesk.StatusCoolingOff)
	notice := s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCoolingOff)
	owner := newBrowser(t, s, "owner")
	owner.visit(notice.Link(t), "this-wasnt-me")
	if l := owner.lang(); l != "en" {
		t.Errorf("<html lang=%q>, want en", l)
	}
	facts := owner.text(".facts")
	for _, want := range []string{"MCID 100005", "dara.m@proton.example", "Asked on", "The change would take effect on"} {
		if !contains(facts, want) {
			t.Errorf("the \"this wasn't me\" page does not name %q: %s", want, facts)
		}
	}
	if len(owner.nodes(`a.next`)) != 1 {
		t.Errorf("the \"this wasn't me\" page has no way on")
	}
}
