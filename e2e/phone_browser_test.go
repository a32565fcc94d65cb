package e2e_test

import (
	"strings"
	"testing"
)

// On a 390×844 phone no page scrolls sideways, and the queue's cards keep
// the labels its table's header gives on a desktop.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	s := start(t)
	b := newBrowser(t, s, "phone")
	b.phone()
	walkEveryPage(t, s, b, func(path string) {
		b.fits(path)
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
