package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var verbs = regexp.MustCompile(`%[sdv]`)

// Every message has a translation in every language, with the same verbs
// in the same order.
func TestEveryMessageIsTranslated(t *testing.T) {
	for key, tr := range messages {
		for _, l := range Langs[1:] {
			text := strings.TrimSpace(tr[l])
			if text == "" {
				t.Errorf("%q has no %s translation", key, l)
				continue
			}
			if got, want := strings.Join(verbs.FindAllString(text, -1), ""), strings.Join(verbs.FindAllString(key, -1), ""); got != want {
				t.Errorf("%q in %s has verbs %q, want %q", key, l, got, want)
			}
		}
		for l := range tr {
			if !Supported(l) {
				t.Errorf("%q has a translation in %s, which learners are not served in", key, l)
			}
		}
	}
}

// Every message the learners' templates ask for is in the catalogue (a
// message missing there would show in English in every language).
func TestTheLearnersTemplatesAreInTheCatalogue(t *testing.T) {
	call := regexp.MustCompile(`\$l\.T "((?:[^"\\]|\\.)*)"`)
	files, _ := filepath.Glob("../web/templates/*.html")
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(raw), -1) {
			n++
			if !Has(m[1]) {
				t.Errorf("%s: %q is not in the catalogue", filepath.Base(f), m[1])
			}
		}
	}
	if n < 50 {
		t.Fatalf("found %d messages in the templates: the pattern is out of date", n)
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct{ asked, stored, accept, want string }{
		{"", "", "", English},
		{"es", "fr", "de", Spanish},
		{"xx", "fr", "de", French},
		{"", "", "de-CH,de;q=0.9,en;q=0.5", German},
		{"", "", "pt-PT,pt;q=0.9", Portuguese},
		{"", "", "ja-JP", Japanese},
		{"", "", "zh-CN", English},
		{"pt-br", "", "", Portuguese},
	} {
		if got := Choose(tc.asked, tc.stored, tc.accept).Lang; got != tc.want {
			t.Errorf("Choose(%q, %q, %q) = %s, want %s", tc.asked, tc.stored, tc.accept, got, tc.want)
		}
	}
	if got := For(Spanish).T("Opened %s", "3/12/2026"); got != "Abierto el 3/12/2026" {
		t.Errorf("Spanish Opened = %q", got)
	}
	if got := For(Japanese).T("not in the catalogue"); got != "not in the catalogue" {
		t.Errorf("a message not in the catalogue = %q, want it in English", got)
	}
}
