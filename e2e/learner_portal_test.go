package e2e_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
)

// Learners read their cases in plain words, with a short reference, and
// their own move shows at once: the page after it is the case as the
// workflow left it, never the moment before.

var (
	rawStatus = regexp.MustCompile(`\b(awaiting learner|awaiting agent|awaiting_learner|awaiting_agent|cooling off|cooling_off)\b`)
	caseID    = regexp.MustCompile(`\b[0-9a-hjkmnp-tv-z]{26}\b`)
	reference = regexp.MustCompile(`\bCD-[0-9A-HJKMNP-TV-Z]{5}\b`)
)

// lang is the language the page says it is in (<html lang>).
func (b *browser) lang() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	l, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil {
		b.t.Fatal(err)
	}
	return l
}

// phone makes the browser a 390×844 phone.
func (b *browser) phone() {
	b.t.Helper()
	b.run("phone width", chromedp.EmulateViewport(390, 844))
}

// wideness is how much wider than the window the page is (0: it fits).
func (b *browser) overflow() int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// plainWords fails when a learner's page shows a raw status or a case id.
func plainWords(t *testing.T, page, where string) {
	t.Helper()
	if m := rawStatus.FindString(page); m != "" {
		t.Errorf("%s shows the internal status %q:\n%s", where, m, page)
	}
	if m := caseID.FindString(page); m != "" {
		t.Errorf("%s shows the case id %s instead of its reference", where, m)
	}
}

// statuses fails when a status badge reads as a status name.
func (b *browser) statuses(where string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".status")).map(e => e.textContent.trim())`))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, s := range got {
		switch s {
		case "open", "awaiting learner", "awaiting agent", "cooling off", "completed", "rejected", "cancelled", "expired", "failed":
			b.t.Errorf("%s: a status reads %q", where, s)
		}
	}
}

// Ben signs in with his work account: connecting waits for his personal
// account; once he adds it, the very page he lands on says he is
// connected (no "Waiting for you" until a reload).
func TestBrowserLearnerBenSeesHisMoveAtOnce(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "ben")
	b.signIn("ben.okafor@contoso.example")
	b.navigate("connect", chromedp.Click(chromedp.CSS(`form[action="/portal/connect"] button`)))
	page := b.text("main")
	if !contains(page, "Waiting for you") || !contains(page, "Add the personal account") {
		t.Fatalf("after connecting, Ben's portal does not say it waits for him:\n%s", page)
	}
	plainWords(t, page, "Ben's portal")
	if !reference.MatchString(b.text(`section[aria-labelledby="cs"]`)) {
		t.Errorf("Ben's case shows no short reference: %s", b.text(`section[aria-labelledby="cs"]`))
	}
	b.shot("waiting-for-ben")

	b.run("type his personal account", chromedp.SendKeys(chromedp.CSS("#add-email"), "ben.okafor@hotmail.example"))
	b.navigate("add the account", chromedp.Click(chromedp.CSS(`form[action="/portal/accounts"] button`)))
	page = b.text("main")
	b.shot("added-and-connected")
	if contains(page, "Waiting for you") || contains(page, "Add the personal account") {
		t.Fatalf("right after adding his account, Ben's portal is stale:\n%s", page)
	}
	for _, want := range []string{"The account is added, and your certification profile is connected.", "Completed: connected",
		"MCID 100002 (Ben Okafor) is connected"} {
		if !contains(page, want) {
			t.Errorf("Ben's portal after adding his account lacks %q:\n%s", want, page)
		}
	}
	plainWords(t, page, "Ben's portal")
	b.statuses("Ben's portal")
	if contains(page, "We are on it") {
		t.Errorf("the \"We are on it\" banner stays after the case completed")
	}

	// The case page: plain words, the reference, the way back.
	b.navigate("open the case", chromedp.Click(chromedp.CSS(`.cases h3 a`)))
	page = b.text("main")
	plainWords(t, page, "Ben's case page")
	b.statuses("Ben's case page")
	if !contains(page, "Completed: connected") || !reference.MatchString(page) || contains(page, "Done.") {
		t.Errorf("Ben's case page:\n%s", page)
	}
	b.shot("case")
}

// Ana connects from a phone: the page she lands on is the outcome, not an
// "In progress" with a note about duplicates.
func TestBrowserLearnerAnaConnectsFromAPhone(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "ana")
	b.phone()
	b.signIn("ana.silva@outlook.example")
	b.shot("portal-phone")
	b.navigate("connect", chromedp.Click(chromedp.CSS(`form[action="/portal/connect"] button`)))
	page := b.text("main")
	b.shot("connected-phone")
	if contains(page, "In progress") || contains(page, "duplicates") || contains(page, "We are on it") {
		t.Fatalf("Ana's portal flashes the moment before the outcome:\n%s", page)
	}
	if !contains(page, "Your certification profile is connected.") || !contains(page, "Completed: connected") {
		t.Fatalf("Ana's portal after connecting:\n%s", page)
	}
	plainWords(t, page, "Ana's portal")
	if n := b.overflow(); n > 0 {
		t.Errorf("at phone width the portal is %dpx wider than the screen", n)
	}
}

// Ben again, in Spanish on a phone: the language he picks stays through
// his moves, and his page is never stale.
func TestBrowserLearnerBenInSpanishOnAPhone(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "ben")
	b.phone()
	b.signIn("ben.okafor@contoso.example")
	b.navigate("switch to Spanish", chromedp.Click(chromedp.CSS(`.langs a[lang="es"]`)))
	if l := b.lang(); l != "es" {
		t.Fatalf("<html lang=%q> after choosing Español, want es", l)
	}
	b.waitText("main", "Tu perfil de certificación")
	b.navigate("connect", chromedp.Click(chromedp.CSS(`form[action="/portal/connect"] button`)))
	page := b.text("main")
	if !contains(page, "Esperándote") || b.lang() != "es" {
		t.Fatalf("after connecting, Ben's portal in Spanish (%s):\n%s", b.lang(), page)
	}
	b.shot("waiting-es")
	b.run("type his personal account", chromedp.SendKeys(chromedp.CSS("#add-email"), "ben.okafor@hotmail.example"))
	b.navigate("add the account", chromedp.Click(chromedp.CSS(`form[action="/portal/accounts"] button`)))
	page = b.text("main")
	b.shot("connected-es")
	for _, want := range []string{"La cuenta está añadida y tu perfil de certificación, conectado.", "Completado: conectado", "Abierto el "} {
		if !contains(page, want) {
			t.Errorf("Ben's Spanish portal lacks %q:\n%s", want, page)
		}
	}
	if contains(page, "Esperándote") {
		t.Errorf("Ben's Spanish portal is stale after his move:\n%s", page)
	}
	plainWords(t, page, "Ben's Spanish portal")
	if n := b.overflow(); n > 0 {
		t.Errorf("at phone width the portal is %dpx wider than the screen", n)
	}
}

// A case's JSON carries its short reference, and the list finds the case
// by it (as an agent who is quoted it would search).
func TestCaseReferenceInTheAPI(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	ana := s.Login("ana.silva@outlook.example")
	alice := s.Login("alice.agent@certdesk.example")
	var cs struct{ ID, Reference string }
	s.Do("POST", "/api/v1/connect-requests", ana, nil).Decode(t, &cs)
	if !reference.MatchString(cs.Reference) || cs.Reference != certdesk.Reference(cs.ID) {
		t.Fatalf("case %s has the reference %q", cs.ID, cs.Reference)
	}
	var page struct{ Items []struct{ ID string } }
	s.Do("GET", "/api/v1/cases?q="+strings.ToLower(cs.Reference), alice, nil).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != cs.ID {
		t.Errorf("GET /api/v1/cases?q=%s = %+v, want the case %s", strings.ToLower(cs.Reference), page.Items, cs.ID)
	}
}
