package mail_test

import (
	"os"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/mail"
)

// Every kind renders with the data its README row promises, and links come
// out clickable and unescaped.
func TestEveryKindRenders(t *testing.T) {
	for _, k := range mail.Kinds {
		data := map[string]any{}
		for _, f := range k.Data {
			data[f] = "<" + f + ">"
		}
		if k.Links {
			data["link"] = "https://certdesk.test/l/abc?x=1&y=2"
		}
		r, err := mail.Render(mail.Message{Kind: k.Kind, To: "a@b.example", ToName: "Dara O'Brien", CaseID: "c1", Step: "s1", Data: data})
		if err != nil {
			t.Fatalf("%s: %v", k.Kind, err)
		}
		if r.Subject == "" || strings.Contains(r.Subject, "\n") {
			t.Errorf("%s: subject %q", k.Kind, r.Subject)
		}
		if !strings.Contains(r.Text, "Dara O'Brien") || strings.Contains(r.HTML, "Dara O'Brien") && !strings.Contains(r.HTML, "O&#39;Brien") {
			t.Errorf("%s: name not rendered as text/escaped HTML", k.Kind)
		}
		if strings.Contains(r.HTML, "<"+firstOr(k.Data, "zz")+">") {
			t.Errorf("%s: data not HTML-escaped", k.Kind)
		}
		if k.Links {
			if len(r.Links) == 0 || r.Links[0].URL != "https://certdesk.test/l/abc?x=1&y=2" {
				t.Errorf("%s: links %+v", k.Kind, r.Links)
			}
			if !strings.Contains(r.Text, "https://certdesk.test/l/abc?x=1&y=2") {
				t.Errorf("%s: text part lacks the link", k.Kind)
			}
		}
	}
	if _, err := mail.Render(mail.Message{Kind: "nope"}); err == nil {
		t.Error("unknown kind rendered")
	}
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}

// The README's table of message kinds lists every kind.
func TestREADMEListsEveryKind(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range mail.Kinds {
		if !strings.Contains(string(readme), "| `"+k.Kind+"` |") {
			t.Errorf("README does not list message kind %s", k.Kind)
		}
	}
}
