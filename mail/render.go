package mail

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/certdesk/certdesk"
)

// Each message kind has one embedded file defining three templates:
// "subject" and "text" (rendered as text) and "html" (rendered with HTML
// escaping). SendGrid's dynamic templates carry the same content in
// production; these render the captured mailbox and the subject we record.
// A language's versions sit in templates/<lang>/ (its own _base.tmpl and
// a version of every kind written to learners: TestEveryLearnerKindIsTranslated);
// staff's kinds are English only.
//
//go:embed templates/*.tmpl templates/*/*.tmpl
var templateFiles embed.FS

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var templates = mustParseTemplates()

// funcs are the templates' helpers. isAccountKey tells messages about an
// account (the inactivity sweep's, keyed "account:<id>") from case emails.
var funcs = map[string]any{
	"isAccountKey": func(v any) bool { s, _ := v.(string); return strings.HasPrefix(s, "account:") },
}

func mustParseTemplates() map[string]kindTemplates {
	out := map[string]kindTemplates{}
	parse := func(key string, files ...string) {
		out[key] = kindTemplates{
			text: texttemplate.Must(texttemplate.New(key).Funcs(texttemplate.FuncMap(funcs)).Option("missingkey=zero").ParseFS(templateFiles, files...)),
			html: htmltemplate.Must(htmltemplate.New(key).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=zero").ParseFS(templateFiles, files...)),
		}
	}
	for _, k := range Kinds {
		parse(k.Kind, "templates/_base.tmpl", "templates/"+k.Kind+".tmpl")
		for _, lang := range Locales() {
			dir := "templates/" + lang + "/"
			if _, err := fs.Stat(templateFiles, dir+k.Kind+".tmpl"); err == nil {
				parse(localeKey(k.Kind, lang), dir+"_base.tmpl", dir+k.Kind+".tmpl")
			}
		}
	}
	return out
}

// Locales are the languages some message kinds are translated into.
func Locales() []string {
	entries, _ := fs.ReadDir(templateFiles, "templates")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func localeKey(kind, lang string) string { return kind + "@" + lang }

// Translated is whether a kind has a version in a language.
func Translated(kind, lang string) bool {
	_, ok := templates[localeKey(kind, lang)]
	return ok
}

// Rendered is a message as the recipient sees it.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
	Links   []Link
}

// Link is a link in a rendered message.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Render renders a message with its kind's embedded templates.
func Render(m Message) (Rendered, error) {
	t, ok := templates[localeKey(m.Kind, messageLocale(m))]
	if !ok {
		t, ok = templates[m.Kind]
	}
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no template for kind %q", m.Kind)
	}
	data := map[string]any{"name": m.ToName, "case_id": m.CaseID, "reference": certdesk.Reference(m.CaseID)}
	for k, v := range localized(m) {
		data[k] = v
	}
	// English greets a nameless recipient "Hello there"; the other
	// languages' "hello" templates have their own words for it.
	if data["name"] == "" && messageLocale(m) == "" {
		data["name"] = "there"
	}
	var subject, text, body bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s subject: %w", m.Kind, err)
	}
	if err := t.text.ExecuteTemplate(&text, "text", data); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s text: %w", m.Kind, err)
	}
	if err := t.html.ExecuteTemplate(&body, "html", data); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s html: %w", m.Kind, err)
	}
	r := Rendered{Subject: strings.TrimSpace(subject.String()), Text: strings.TrimSpace(text.String()) + "\n", HTML: body.String()}
	r.Links = extractLinks(r.HTML)
	return r, nil
}

var anchor = regexp.MustCompile(`(?s)<a href="([^"]+)"[^>]*>(.*?)</a>`)
var tags = regexp.MustCompile(`<[^>]*>`)

func extractLinks(body string) []Link {
	links := []Link{}
	for _, m := range anchor.FindAllStringSubmatch(body, -1) {
		label := html.UnescapeString(strings.TrimSpace(tags.ReplaceAllString(m[2], "")))
		links = append(links, Link{Label: label, URL: html.UnescapeString(m[1])})
	}
	return links
}
