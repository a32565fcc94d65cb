package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk/stacktest"
)

// Ana finds "Download my data" on her portal, in English and in Spanish,
// and the link gives her own copy with her browser's session. Sam asks to
// erase Chen from the console's personal-data page; the request waits for
// another supervisor and says so, and a mistake keeps what he typed.
func TestBrowserLearnerDownloadsHerDataAndASupervisorAsksForAnErasure(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	b := newBrowser(t, s, "ana")
	b.signIn("ana.silva@outlook.example")
	b.visit("/portal", "portal")
	if got := b.text(`a[href="/api/v1/me/personal-data"]`); got != "Download my data" {
		t.Errorf("the link reads %q", got)
	}
	copyOf, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch("/api/v1/me/personal-data").then(r => r.ok ? r.json() : {email: "status " + r.status}).then(d => d.email)`,
		chromedp.EvalAwaitPromise))
	if err != nil || copyOf != "ana.silva@outlook.example" {
		t.Errorf("the link's copy is of %q (%v)", copyOf, err)
	}
	b.visit("/portal?lang=es", "portal-es")
	if got := b.text(`a[href="/api/v1/me/personal-data"]`); got != "Descargar mis datos" {
		t.Errorf("in Spanish the link reads %q", got)
	}

	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	sam.visit("/console/privacy", "privacy")
	// The browser would stop a blank reason; a space passes it, as a
	// script or an old browser would: the server says what is missing.
	evaluate[bool](t, sam, `(document.querySelector('#erase-reason').removeAttribute('required'), true)`)
	sam.navigate("ask without a reason",
		chromedp.SetValue(chromedp.CSS(`#erase-email`), chenEmail),
		chromedp.SetValue(chromedp.CSS(`#erase-reason`), " "),
		chromedp.Click(chromedp.CSS(`form[action="/console/privacy/erasures"] button`)))
	if got := sam.value(`#erase-email`); got != chenEmail {
		t.Errorf("after the mistake the address reads %q", got)
	}
	if !strings.Contains(sam.text(`.error-summary`), "say why") {
		t.Errorf("the error summary: %q", sam.text(`.error-summary`))
	}
	sam.navigate("ask",
		chromedp.SetValue(chromedp.CSS(`#erase-reason`), "asked by email"),
		chromedp.Click(chromedp.CSS(`form[action="/console/privacy/erasures"] button`)))
	if got := sam.text(`[role=status]`); !strings.Contains(got, "Another supervisor approves it") {
		t.Errorf("after asking: %q", got)
	}
	if row := sam.text(`section[aria-labelledby=pending-h] tbody tr`); !strings.Contains(row, chenEmail) || !strings.Contains(row, "Another supervisor approves it.") {
		t.Errorf("the pending row: %q", row)
	}
	sam.shot("privacy-pending")
}
