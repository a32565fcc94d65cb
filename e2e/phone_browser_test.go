package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
)

// On a 390×844 phone no page scrolls sideways, the queue's cards keep the
// labels its table's header gives on a desktop, and axe-core finds nothing.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	s := start(t)
	b := newBrowser(t, s, "phone")
	b.phone()
	walkEveryPage(t, s, b, func(path string) {
		b.fits(path)
		if axeAtPhoneWidth() {
			b.axe(path + " (phone)")
		}
		if strings.HasPrefix(path, "/console?") || path == "/console" {
			b.queueLabels(path)
		}
	})
}

// queueLabels fails when a queue card's cell does not say what it is: the
// column's header is hidden and the cell shows no label of its own.
func (b *browser) queueLabels(where string) {
	b.t.Helper()
	missing := b.eval(`(() => { const q = document.querySelector("table.queue"); if (!q) return "no queue";
		const heads = Array.from(q.querySelectorAll("thead th")).map(th => th.textContent.trim());
		const headShown = q.querySelector("thead").getBoundingClientRect().height > 0, out = [];
		for (const row of q.querySelectorAll("tbody tr")) {
			Array.from(row.cells).forEach((td, i) => {
				if (!heads[i] || headShown || (!td.textContent.trim() && !td.querySelector("input, button, a"))) return;
				const label = getComputedStyle(td, "::before").content;
				if (!label.includes(heads[i])) out.push(heads[i]);
			});
			break;
		}
		return out.join(", "); })()`)
	if missing != "" {
		b.shot("failed-queue-labels")
		b.t.Errorf("%s: at phone width a queue card's cells do not say what they are: %s", where, missing)
	}
}

// A learner's paths in Spanish and in Japanese on a phone: the portal, the
// case page, a link from an email, the public recovery form and its error
// summary each say <html lang> in the language chosen, read in it, and fit
// the screen.
func TestBrowserLearnerPathsInTwoLanguagesOnAPhone(t *testing.T) {
	s := start(t)
	ben := requestConnect(t, s, s.Login(benWork))
	link := awaitMailStep(s, benWork, ben.ID, "add-account-1").Link(t)
	s.AwaitStatus(ben.ID, certdesk.StatusAwaitingLearner)
	for _, l := range []struct{ lang, profile, waiting, link, recover, summary string }{
		{"es", "Tu perfil de certificación", "Esperándote", "Avísanos de que añadiste tu cuenta personal",
			"Recupera el acceso a tu perfil de certificación", "Algunos campos necesitan otra revisión"},
		{"ja", "あなたの認定プロファイル", "あなたの対応待ち", "個人アカウントを追加したことを知らせる",
			"認定プロファイルへのアクセスを回復する", "確認が必要な項目があります"},
	} {
		t.Run(l.lang, func(t *testing.T) {
			b := newBrowser(t, s, "ben")
			b.phone()
			b.signIn(benWork)
			page := func(path, shot, sel, want string) {
				t.Helper()
				b.visit(path, shot)
				b.says(sel, want, l.lang)
			}
			page("/portal?lang="+l.lang, "portal", "#cp", l.profile)
			b.waitText(`section[aria-labelledby="cs"]`, l.waiting)
			page("/portal/cases/"+ben.ID, "case", "main", l.waiting)
			page(link+"?lang="+l.lang, "link", "h1", l.link)
			page("/portal/recovery?lang="+l.lang, "recovery-form", "h1", l.recover)
			b.navigate("send the form empty", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
			b.shot("recovery-form-errors")
			b.says("#error-summary-h", l.summary, l.lang)
		})
	}
}

// says fails unless the page is in lang, sel reads want, the page fits the
// window's width and axe-core finds nothing.
func (b *browser) says(sel, want, lang string) {
	b.t.Helper()
	where := b.path()
	if got := b.lang(); got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", where, got, lang)
	}
	b.waitText(sel, want)
	b.fits(where)
	if axeAtPhoneWidth() {
		b.axe(where + " (" + lang + ", phone)")
	}
}
