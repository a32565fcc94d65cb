package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// The dashboard draws the open cases over the window, by kind, with the
// numbers beside it and in the CSV: today's bar is what is open now.
func TestTheDashboardShowsOpenCasesOverTime(t *testing.T) {
	s := start(t)
	sam := s.Login("sam.supervisor@certdesk.example")
	merge := requestMerge(t, s, s.Login(chenEmail), map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)

	var st store.Stats
	if r := s.Do("GET", "/api/v1/stats", sam, nil); r.Code != http.StatusOK {
		t.Fatalf("stats: %d", r.Code)
	} else {
		r.Decode(t, &st)
	}
	if len(st.OpenByDay) != store.StatsDays*len(certdesk.Kinds) {
		t.Fatalf("%d open-by-day rows", len(st.OpenByDay))
	}
	today := st.OpenByDay[len(st.OpenByDay)-1].Day
	var openNow, openToday int64
	for _, o := range st.Open {
		openNow += o.N
	}
	for _, o := range st.OpenByDay {
		if o.Day == today {
			openToday += o.N
		}
	}
	if openNow == 0 || openToday != openNow {
		t.Errorf("open at the end of today %d, open now %d", openToday, openNow)
	}
	page := s.Do("GET", "/console/dashboard", sam, nil)
	if page.Code != http.StatusOK || !strings.Contains(string(page.Body), `id="chart-open-days-title"`) || !strings.Contains(string(page.Body), `id="open-days-table"`) {
		t.Errorf("the page has no open-over-time chart and table: %d", page.Code)
	}
	csv := s.Do("GET", "/console/dashboard.csv", sam, nil)
	if n := strings.Count(string(csv.Body), "\nopen_at_end_of_day,"); n != store.StatsDays*len(certdesk.Kinds) {
		t.Errorf("%d open_at_end_of_day rows in the CSV", n)
	}
}
