// Package web holds certdesk's pages: html/template views and static assets,
// embedded in the binary and parsed once at start.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static serves the embedded assets (mounted at /static). It holds files
// only: a directory does not exist for it, so nothing lists what is there.
func Static() http.FileSystem {
	sub, _ := fs.Sub(staticFiles, "static")
	return filesOnly{http.FS(sub)}
}

type filesOnly struct{ http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.FileSystem.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// Pages are the parsed views, each combined with the layout.
type Pages struct {
	views map[string]*template.Template
}

// MustParse parses every view with the layout and the partials (files named
// _*.html); a broken template panics at start, not on a user's request.
func MustParse() *Pages {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &Pages{views: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		p.views[base] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, n))
	}
	return p
}

// Views lists the views, sorted.
func (p *Pages) Views() []string {
	out := make([]string, 0, len(p.views))
	for v := range p.views {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Page is what every view gets: the layout's part and the view's own data.
type Page struct {
	Title     string
	Signed    *Person // nil when anonymous
	CSRFToken string
	Dev       bool
	Data      any
	// Notices are what a signed-in staff member is told above any page
	// (the cases assigned to them: _notices.html); nil for anyone else.
	Notices any
}

// Person is the signed-in person as the layout shows them.
type Person struct {
	Name  string
	Email string
	Role  string
}

// Render writes a view. It renders into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, page Page) {
	t, ok := p.views[name]
	if !ok {
		panic(fmt.Sprintf("web: no view %q", name))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", page); err != nil {
		slog.Error("render", "view", name, "err", err)
		http.Error(w, "The page could not be shown. Please try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fieldView is one labelled input with its hint and error (the "field"
// partial).
type fieldView struct {
	Name, Label, Type, Hint, Value, Error string
}

var funcs = template.FuncMap{
	"field": func(name, label, typ, hint, value string, errs map[string]string) fieldView {
		return fieldView{Name: name, Label: label, Type: typ, Hint: hint, Value: value, Error: errs[name]}
	},
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"humanize": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}
