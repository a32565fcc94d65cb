package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// /static/ serves its files and lists nothing: a directory, however it is
// written, is 404 in the error shape.
func TestStaticServesFilesAndListsNothing(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	for _, method := range []string{"GET", "HEAD"} {
		for _, path := range []string{"/static/", "/static", "/static//", "/static/.", "/static/./", "/static/%2e/", "/static/../static/",
			"/static/css/", "/static/js", "/static/app.css/", "/static/no-such.css", "/static/..%2f", "/static/%2f"} {
			r := h.do(method, path, "", nil)
			if r.Code != http.StatusNotFound || strings.Contains(string(r.Body), "<a href") || strings.Contains(string(r.Body), "<pre>") {
				t.Errorf("%s %s = %d %.200s, want 404 listing nothing", method, path, r.Code, r.Body)
			}
			if method == "GET" && r.Code == http.StatusNotFound && r.errorCode(t) != "not_found" {
				t.Errorf("%s %s: %s, want the error shape", method, path, r.Body)
			}
		}
	}
	for path, ct := range map[string]string{"/static/app.css": "text/css", "/static/app.js": "text/javascript"} {
		r := h.do("GET", path, "", nil)
		if r.Code != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ct) || len(r.Body) == 0 {
			t.Errorf("GET %s = %d %s, want the file", path, r.Code, r.Header.Get("Content-Type"))
		}
	}
}
