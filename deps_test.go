package certdesk_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Dependencies point one way: the domain (this package) needs none of the
// others; a dependency package (store, mail, codec) never imports a
// sibling; workflows reach the store only through activities.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	const mod = "github.com/certdesk/certdesk"
	pkgs := map[string]struct{ Imports, Deps []string }{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath    string
			Imports, Deps []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")] = struct{ Imports, Deps []string }{p.Imports, p.Deps}
	}
	ours := func(list []string) []string {
		var o []string
		for _, d := range list {
			if d == mod || strings.HasPrefix(d, mod+"/") {
				o = append(o, strings.TrimPrefix(strings.TrimPrefix(d, mod), "/"))
			}
		}
		return o
	}
	rules := []struct {
		pkg        string
		transitive bool
		never      []string
	}{
		{"", true, []string{"store", "mail", "api", "workflows", "activities", "config", "codec", "web"}},
		{"mail", true, []string{"store", "api", "workflows", "activities", "config"}},
		{"codec", true, []string{"", "store", "mail", "config"}},
		{"tracing", true, []string{"", "store", "mail", "codec", "config", "api", "workflows", "activities", "desk", "server"}},
		{"webhook", true, []string{"store", "mail", "codec", "config", "api", "workflows", "activities"}},
		{"store", true, []string{"mail", "api", "workflows", "activities", "config", "web", "codec"}},
		{"workflows", false, []string{"store", "api", "config"}},
		{"web", true, []string{"store", "api", "workflows", "activities"}},
		// The HTTP layer's rooms: the desk knows no HTTP; the shared
		// plumbing (request, respond, limit) knows no room; a room does
		// not import another, but for the sign-in every room needs.
		{"desk", true, []string{"api", "pages", "auth", "server", "request", "respond"}},
		{"request", true, []string{"api", "pages", "auth", "server", "desk", "store"}},
		{"respond", true, []string{"api", "pages", "auth", "server", "desk", "store"}},
		{"limit", true, []string{"api", "pages", "auth", "server", "desk"}},
		{"auth", true, []string{"api", "pages", "server"}},
		{"api", true, []string{"pages", "server"}},
		{"pages", true, []string{"api", "server"}},
	}
	for _, r := range rules {
		p, ok := pkgs[r.pkg]
		if !ok {
			t.Errorf("no package %q", r.pkg)
			continue
		}
		list := p.Imports
		if r.transitive {
			list = p.Deps
		}
		if r.pkg == "desk" && slices.Contains(p.Deps, "github.com/gin-gonic/gin") {
			t.Errorf("desk depends on gin: it must know no HTTP")
		}
		for _, dep := range ours(list) {
			if slices.Contains(r.never, dep) {
				t.Errorf("%s depends on %s", name(r.pkg), name(dep))
			}
		}
	}
}

func name(p string) string {
	if p == "" {
		return "the root package"
	}
	return p
}
