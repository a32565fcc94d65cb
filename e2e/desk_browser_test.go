package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The queue's advertised keys work: j selects the first case, Enter opens
// it; / focuses the search; ? opens the list of keys, Esc closes it and
// focus goes back where it was. The case page has the list too.
func TestBrowserDeskQueueKeysAndHelp(t *testing.T) {
	s := start(t)
	cs := chenMerge(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console?view=all&kind=merge", "queue")

	alice.run("press /", chromedp.KeyEvent("/"))
	if got := alice.active(); got != "q" {
		t.Fatalf("/ focused %q, want the search", got)
	}
	alice.run("leave the search", chromedp.Blur(chromedp.CSS("#q")))

	alice.run("press ?", chromedp.KeyEvent("?"))
	alice.waitText("#keys-help", "Keyboard shortcuts")
	alice.shot("keys-help")
	if open := alice.eval(`document.getElementById("keys-help").open`); open != "true" {
		t.Fatalf("the help is not open (%s)", open)
	}
	for _, k := range []string{"j", "k", "Enter", "/", "?", "Esc"} {
		if got := alice.text("#keys-help .keys"); !strings.Contains(got, k) {
			t.Errorf("the help does not list %q: %q", k, got)
		}
	}
	alice.run("press Esc", chromedp.KeyEvent(kb.Escape))
	if open := alice.eval(`document.getElementById("keys-help").open`); open != "false" {
		t.Fatalf("Esc left the help open")
	}

	alice.run("press j", chromedp.KeyEvent("j"))
	if n := len(alice.nodes(`table.queue tbody tr.current`)); n != 1 {
		t.Fatalf("j selected %d rows", n)
	}
	alice.shot("row-selected")
	alice.navigate("press Enter", chromedp.KeyEvent(kb.Enter))
	if p := alice.path(); p != "/console/cases/"+cs.ID {
		t.Fatalf("Enter opened %s, want the case %s", p, cs.ID)
	}
	alice.waitText("#subject-h", "Subject")

	// On the case page: the help opens from its button and gives focus back.
	alice.run("open the help by its button", chromedp.Focus(chromedp.CSS(".keys-open")), chromedp.KeyEvent(kb.Enter))
	alice.waitText("#keys-help", "Ctrl+Shift")
	alice.shot("case-keys-help")
	alice.run("close it", chromedp.KeyEvent(kb.Escape))
	if got := alice.eval(`document.activeElement.className`); !strings.Contains(got, "keys-open") {
		t.Fatalf("focus went to %q after closing, want the button that opened it", got)
	}
}

// active is the id of the focused element.
func (b *browser) active() string {
	return b.eval(`document.activeElement ? document.activeElement.id : ""`)
}

// eval runs an expression in the page and returns it as a string.
func (b *browser) eval(js string) string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`String(` + js + `)`))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}
