package mail

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	htmltemplate "html/template"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/certdesk/certdesk"
)

// Each message kind has one embedded file defining three templates:
// "subject" and "text" (rendered as text) and "html" (rendered with HTML
// escaping). SendGrid's dynamic templates carry the same content in
// production; these render the captured mailbox and the subject we record.
//
//go:embed templates/*.tmpl
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
	for _, k := range Kinds {
		files := []string{"templates/_base.tmpl", "templates/" + k.Kind + ".tmpl"}
		out[k.Kind] = kindTemplates{
			text: texttemplate.Must(texttemplate.New(k.Kind).Funcs(texttemplate.FuncMap(funcs)).Option("missingkey=zero").ParseFS(templateFiles, files...)),
			html: htmltemplate.Must(htmltemplate.New(k.Kind).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=zero").ParseFS(templateFiles, files...)),
		}
	}
	return out
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
	t, ok := templates[m.Kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no template for kind %q", m.Kind)
	}
	data := map[string]any{"name": m.ToName, "case_id": m.CaseID, "reference": certdesk.Reference(m.CaseID)}
	for k, v := range m.Data {
		data[k] = v
	}
	if data["name"] == "" {
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
