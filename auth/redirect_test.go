package auth

import (
	"net/url"
	"strings"
	"testing"
)

// hostileNexts are redirect targets that leave the site in some browser, or
// after some decoding: each must become "/".
var hostileNexts = []string{
	// Another host, written plainly.
	"//evil.example", "///evil.example", "////evil.example/x", "//evil.example/%2e%2e",
	"https://evil.example", "http:evil.example", "HTTPS://evil.example", "//user@evil.example",
	"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
	"evil.example", "evil.example/console", "", " ", "console", "?next=//evil.example", "#//evil.example",
	// Backslashes: browsers read them as slashes.
	"/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example", "/console\\..\\\\evil.example",
	// Whitespace and controls: browsers drop tabs and newlines.
	"/\t/127.0.0.1:9/x", "/\n/evil.example", "/\r/evil.example", "/\r\n/evil.example", "\t//evil.example",
	" //evil.example", "/ /evil.example", "/\x00/evil.example", "/\x0b/evil.example", "/\x0c/evil.example",
	"/\x7f/evil.example", "/\x1b/evil.example",
	// The same, percent-encoded once or more.
	"/%09/127.0.0.1:9/x", "/%0a/evil.example", "/%0d/evil.example", "/%0D%0A/evil.example", "/%00/evil.example",
	"/%20/evil.example", "/%7f/evil.example",
	"/%2f/evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "%2f%2fevil.example", "%2F/evil.example",
	"/%5c/evil.example", "/%5Cevil.example", "%5c%5cevil.example",
	"/%252f/evil.example", "/%25252f/evil.example", "/%2525252f/evil.example", "/%252525252525252f/evil.example",
	"/%2509/evil.example", "/%255c/evil.example",
	// Dot segments that fold into "//" or climb out.
	"/.//evil.example", "/..//evil.example", "/./evil.example/../..//x", "/%2e%2e//evil.example",
	"/%2e/%2fevil.example", "/console/..//evil.example", "/console/.%2e//evil.example",
	// Unicode look-alikes, spaces and controls, raw and encoded.
	"/／evil.example", "/∕evil.example", "/⁄evil.example", "/＼evil.example", "/﹨evil.example",
	"/%EF%BC%8Fevil.example", "/%E2%88%95evil.example", "/%EF%BC%BCevil.example",
	"/\u202e/evil.example", "/\u200b/evil.example", "/\u00a0/evil.example", "/\u2028/evil.example", "/\u3000/evil.example",
	"/%E2%80%AE/evil.example", "/%C2%A0/evil.example", "/%E2%80%8B/evil.example",
	// Overlong and invalid UTF-8 for "/" and ".".
	"/%c0%af/evil.example", "/%e0%80%af/evil.example", "/%c0%ae%c0%ae//evil.example", "/\xff/evil.example",
	"/%ff%fe/evil.example", "/\xc0\xaf/evil.example",
	// Broken escapes and absurd lengths.
	"/%", "/%zz/evil.example", "/%2", "/" + strings.Repeat("a", 2048),
}

// keptNexts are same-site paths the site itself builds (signInFirst's
// RequestURI): each comes back unchanged.
var keptNexts = []string{
	"/", "/console", "/console/", "/portal", "/console/cases/01m80fwatwerkteks57h17kr1e",
	"/console/cases/01m80fwatwerkteks57h17kr1e?done=claimed", "/console?view=mine&kind=merge&q=ana+silva",
	"/portal?done=connect", "/portal#top", "/console?q=ana%40outlook.example", "/console?next=%2Fportal",
}

func TestSafeNextRefusesEveryWayOffTheSite(t *testing.T) {
	for _, next := range hostileNexts {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%.80q) = %.80q, want /", next, got)
		}
	}
	for _, next := range keptNexts {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q, want it kept", next, got)
		}
	}
}

// Whatever comes in, what comes out stays on the site as a browser reads
// it (tabs and newlines dropped, "\" as "/"), decoded or not.
func TestSafeNextStaysOnTheSite(t *testing.T) {
	base, _ := url.Parse("https://certdesk.example/auth/callback")
	browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/")
	for _, next := range append(append([]string{}, hostileNexts...), keptNexts...) {
		got := safeNext(next)
		for _, form := range []string{got, mustUnescape(got)} {
			u, err := base.Parse(browser.Replace(form))
			if err != nil || u.Host != "certdesk.example" || u.Scheme != "https" {
				t.Errorf("safeNext(%.80q) = %.80q, which a browser reads as %v (%v)", next, got, u, err)
			}
		}
	}
}

func mustUnescape(s string) string {
	d, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return d
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range append(append([]string{}, hostileNexts...), keptNexts...) {
		f.Add(s)
	}
	base, _ := url.Parse("https://certdesk.example/")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the target nor /", next, got)
		}
		for form := got; ; {
			u, err := base.Parse(strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(form))
			if err != nil || u.Host != "certdesk.example" {
				t.Fatalf("safeNext(%q) = %q leaves the site as %q", next, got, form)
			}
			d, err := url.PathUnescape(form)
			if err != nil || d == form {
				break
			}
			form = d
		}
	})
}
