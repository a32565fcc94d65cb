package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
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

// The daily sweep counts the open cases by status; the dashboard draws the
// counted days and today, with the numbers in its table and the CSV.
func TestTheSweepCountsOpenCasesByStatusForTheDashboard(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	sam := s.Login("sam.supervisor@certdesk.example")
	merge := requestMerge(t, s, s.Login(chenEmail), map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	yesterday := time.Now().UTC().Add(-24 * time.Hour)
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-" + certdesk.NewID(), TaskQueue: s.Config.TaskQueue},
		workflows.InactivitySweep, workflows.SweepInput{AsOf: yesterday})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.RecordHistory(run.GetID(), run.GetRunID(), "sweep-records-open-counts")

	var st store.Stats
	s.Do("GET", "/api/v1/stats", sam, nil).Decode(t, &st)
	counted := map[string]int64{}
	for _, o := range st.OpenByStatus {
		if o.Kind == certdesk.KindMerge && o.Status == certdesk.StatusAwaitingAgent {
			counted[o.Day] = o.N
		}
	}
	if counted[yesterday.Format(time.DateOnly)] != 1 || counted[time.Now().UTC().Format(time.DateOnly)] != 1 {
		t.Errorf("merges awaiting an agent by day: %v", counted)
	}
	page := string(s.Do("GET", "/console/dashboard", sam, nil).Body)
	if !strings.Contains(page, `id="chart-open-status-title"`) || !strings.Contains(page, "<th scope=\"row\">"+yesterday.Format(time.DateOnly)+"</th>") {
		t.Error("the page has no open-by-status chart with yesterday's count")
	}
	if csv := string(s.Do("GET", "/console/dashboard.csv", sam, nil).Body); !strings.Contains(csv, "open_by_status,merge,"+yesterday.Format(time.DateOnly)+" awaiting_agent,1") {
		t.Errorf("the CSV has no count of yesterday's merge")
	}
}
