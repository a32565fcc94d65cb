package telemetry

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape is what Prometheus reads from a registry: the text format.
func scrape(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).
		ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape = %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// lines are a scrape's lines of the named metric families (HELP and TYPE
// included), sorted.
func lines(text string, names ...string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, n := range names {
			s := strings.TrimPrefix(strings.TrimPrefix(l, "# HELP "), "# TYPE ")
			rest, ok := strings.CutPrefix(s, n)
			if ok && (rest == "" || strings.ContainsAny(rest[:1], "{ ") ||
				strings.HasPrefix(rest, "_bucket") || strings.HasPrefix(rest, "_sum") || strings.HasPrefix(rest, "_count")) {
				out = append(out, l)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// compare fails the test unless the scrape's lines of the named families
// are want's (HELP and TYPE only when want has them).
func compare(t *testing.T, g prometheus.Gatherer, want string, names ...string) {
	t.Helper()
	got := lines(scrape(t, g), names...)
	w := lines(want, names...)
	if !strings.Contains(want, "# TYPE") { // want is the samples only
		got = slices.DeleteFunc(got, func(l string) bool { return strings.HasPrefix(l, "#") })
	}
	if !slices.Equal(got, w) {
		t.Fatalf("scrape of %v:\n%s\nwant:\n%s", names, strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
}

// count is how many series of a family a scrape has (a histogram's
// counted once each).
func count(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(scrape(t, g), "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ") ||
			strings.HasPrefix(rest, "_count")) {
			n++
		}
	}
	return n
}
