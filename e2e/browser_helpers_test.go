package e2e_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// artifactsDir is where the browser tests keep what they saw: the
// directory CERTDESK_ARTIFACTS names (.ci/run sets it to artifacts/ in the
// checkout), else the test's own temporary directory, kept by nobody.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("CERTDESK_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// axeFile is axe-core as `npm ci --prefix e2e/axe` installs it.
const axeFile = "axe/node_modules/axe-core/axe.min.js"

var axeSource = sync.OnceValues(func() ([]byte, error) { return os.ReadFile(axeFile) })

// axeScript is axe-core's source; without it the accessibility tests skip,
// except in CI, where .ci/run installs it and its absence fails the run.
func axeScript(t *testing.T) string {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required in CI (npm ci --prefix e2e/axe): %v", err)
		}
		t.Skipf("no axe-core at e2e/%s (run npm ci --prefix e2e/axe)", axeFile)
	}
	return string(src)
}

// axeAtPhoneWidth says whether the phone tests run axe-core too: where it is
// installed, and always in CI; elsewhere they check the layout alone.
func axeAtPhoneWidth() bool {
	_, err := axeSource()
	return err == nil || os.Getenv("CI") == "true"
}

// axeViolation is the part of an axe-core result a failure names.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe runs axe-core's WCAG 2.1 A and AA rules on the page as it is now and
// fails the test with each violation: its rule, impact, element and HTML.
func (b *browser) axe(where string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "undefined" && ((0, eval)(`+strconvQuote(axeScript(b.t))+`), true)`)); err != nil {
		b.t.Fatalf("%s: inject axe-core: %v", where, err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: run axe-core: %v", where, err)
	}
	for _, v := range vs {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("    %v: %s", n.Target, n.HTML))
		}
		b.t.Errorf("%s: axe %s (%s): %s\n%s", where, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n"))
	}
}

// Keys a keyboard user presses.
const (
	keyTab       = kb.Tab
	keyEnter     = kb.Enter
	keySpace     = " "
	keyArrowDown = kb.ArrowDown
)

// key presses one key as a keyboard does: a key-down that carries its
// text, then a key-up. (chromedp.KeyEvent sends the text as a separate
// char event, which reaches whatever the key-down focused: Enter on a link
// to a field would then submit the field's form.)
func key(r rune) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		events, text := kb.Encode(r), ""
		for _, e := range events {
			if e.Type == kb.KeyChar {
				text = e.Text
			}
		}
		for _, e := range events {
			if e.Type == kb.KeyChar {
				continue
			}
			if e.Type == kb.KeyDown {
				e.Text, e.UnmodifiedText = text, text
			}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *e); err != nil {
				return err
			}
		}
		return nil
	})
}

// focusedWindow makes the page behave as in a window that has the focus,
// as a person's browser is (headless, a page loaded after a form is sent
// would otherwise not match :focus until the next key).
func (b *browser) focusedWindow() {
	b.t.Helper()
	b.run("emulate a focused window", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
}

// press types keys into whatever has the focus, one key at a time.
func (b *browser) press(keys string) {
	b.t.Helper()
	for _, r := range keys {
		b.run(fmt.Sprintf("press %q", r), key(r))
	}
}

// tabTo presses Tab until the focused element matches sel (at most limit
// presses), and fails if it never does.
func (b *browser) tabTo(sel string, limit int) {
	b.t.Helper()
	for range limit {
		b.press(keyTab)
		if b.eval(`document.activeElement && document.activeElement.matches(`+strconvQuote(sel)+`) ? "yes" : ""`) == "yes" {
			return
		}
	}
	b.shot("failed-tab-to")
	b.t.Fatalf("%d presses of Tab never reached %s (the focus is on %s)", limit, sel, b.eval(`document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : ""`))
}

// focusShows fails unless the focused element is drawn with a focus ring
// (an outline or a box shadow) that stands out from the page at WCAG's 3:1
// for what is not text.
func (b *browser) focusShows(where string) {
	b.t.Helper()
	got := evaluate[[]string](b.t, b, `(() => { const e = document.activeElement; if (!e || e === document.body) return ["nothing has the focus", "", ""];
		const s = getComputedStyle(e), page = getComputedStyle(document.body).backgroundColor;
		if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) return ["", s.outlineColor, page];
		if (s.boxShadow !== "none") return ["", s.boxShadow.match(/rgba?\([^)]*\)/)[0], page];
		return [e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " has no visible focus", "", ""]; })()`)
	if got[0] != "" {
		b.shot("failed-focus")
		b.t.Errorf("%s: %s", where, got[0])
		return
	}
	if r := contrast(b.t, got[1], got[2]); r < 3 {
		b.shot("failed-focus")
		b.t.Errorf("%s: the focus ring (%s on %s) has a contrast of %.2f:1, want at least 3:1", where, got[1], got[2], r)
	}
}

// desktop makes the browser the size newBrowser opened it at.
func (b *browser) desktop() {
	b.t.Helper()
	b.run("desktop width", chromedp.EmulateViewport(1280, 900))
}

// fits fails when the page scrolls sideways at the window's width.
func (b *browser) fits(where string) {
	b.t.Helper()
	got := b.eval(`(() => { const w = document.scrollingElement.scrollWidth, iw = window.innerWidth;
		if (w <= iw) return "";
		const wide = Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > iw + 0.5)
			.filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > iw + 0.5)).slice(0, 5)
			.map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " to " + Math.round(e.getBoundingClientRect().right) + "px");
		return w + "px wide at " + iw + "px; widest: " + wide.join(", "); })()`)
	if got != "" {
		b.shot("failed-overflow")
		b.t.Errorf("%s overflows: %s", where, got)
	}
}
