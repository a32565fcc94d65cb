package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk/stacktest"
)

// browser drives headless Chromium against a stack, saving a screenshot of
// every page it looks at under screenshots/<test>/ in artifactsDir.
type browser struct {
	who   string // names the screenshots when a test drives two browsers
	t     *testing.T
	s     *stacktest.Stack
	ctx   context.Context
	shots int
	dir   string
}

// chromium finds the browser; without it the browser tests skip, except in
// CI where .ci/run installs it and its absence fails the run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CERTDESK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("no Chromium found (apt-get install chromium, or set CERTDESK_CHROMIUM)")
	return ""
}

func newBrowser(t *testing.T, s *stacktest.Stack, who string) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests start Chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	dir := filepath.Join(artifactsDir(t), "screenshots", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, old := range mustGlob(filepath.Join(dir, who+"-*.png")) {
		_ = os.Remove(old)
	}
	return &browser{who: who, t: t, s: s, ctx: ctx, dir: dir}
}

// run runs steps with a time limit.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs steps that load a new page (a click on a link or a form
// button) and waits for it; it returns the page's HTTP status.
func (b *browser) navigate(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// shot saves a full-page screenshot.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.shots++
	file := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", b.who, b.shots, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// visit opens a path and waits for the page.
func (b *browser) visit(path, shot string) {
	b.t.Helper()
	b.run("visit "+path, chromedp.Navigate(b.s.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
	b.shot(shot)
}

// signIn signs in through /dev/login by clicking the person.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.visit("/dev/login", "dev-login")
	b.navigate("sign in as "+email, chromedp.Click(chromedp.CSS(`form input[value="`+email+`"] ~ button`)))
}

// text returns an element's text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.shot("failed-read")
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitText waits until an element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("%s never showed %q (last: %q, %v)", sel, want, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// path is the page's current path.
func (b *browser) path() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.s.URL)
}

// nodes returns the elements a selector matches now (none is fine).
func (b *browser) nodes(sel string) []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+strconvQuote(sel)+`)).map(e => e.tagName)`))
	if err != nil {
		b.t.Fatalf("query %s: %v", sel, err)
	}
	return out
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustGlob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	return m
}

// value returns an input's value.
func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}
