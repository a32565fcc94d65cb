package e2e_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// contrast is WCAG's contrast ratio of two CSS rgb() colours.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	lum := func(css string) float64 {
		parts := strings.FieldsFunc(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(css, "rgba("), "rgb("), ")"), func(r rune) bool { return r == ',' || r == ' ' })
		if len(parts) < 3 {
			t.Fatalf("not a colour: %q", css)
		}
		var l [3]float64
		for i := range 3 {
			v, err := strconv.ParseFloat(parts[i], 64)
			if err != nil {
				t.Fatalf("not a colour: %q", css)
			}
			c := v / 255
			if c <= 0.03928 {
				l[i] = c / 12.92
			} else {
				l[i] = math.Pow((c+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// evaluate runs a script in the page and returns its value.
func evaluate[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// The dev badge reads at WCAG AA contrast on every page, and the top bar
// (brand, the supervisor's longest nav, who is signed in) fits a phone's
// width without the page scrolling sideways.
func TestBrowserTopBarReadsAndFitsAPhone(t *testing.T) {
	s := start(t)
	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	sam.run("phone width", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/console", "/console/canned", "/dev/mail"} {
		sam.visit(path, "phone-"+strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))
		got := evaluate[[]any](t, sam, `(() => { const b = getComputedStyle(document.querySelector(".badge.dev"));
			return [b.color, b.backgroundColor, document.querySelector("header.top").scrollWidth]; })()`)
		fg, bg, width := got[0].(string), got[1].(string), int(got[2].(float64))
		if r := contrast(t, fg, bg); r < 4.5 {
			t.Errorf("%s: the dev badge's contrast is %.2f:1 (%s on %s), want at least 4.5:1", path, r, fg, bg)
		}
		if width > 390 {
			t.Errorf("%s: the top bar is %d px wide at a 390 px screen", path, width)
		}
	}
}
