package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/bench"
	"github.com/certdesk/certdesk/store/storetest"
)

// Every scenario, briefly, on the stack it builds: it completes, measures
// something, makes no errors and writes the report's fields.
func TestScenariosSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the embedded stack once per scenario")
	}
	pg := storetest.PostgresAdminURL()
	for _, o := range []bench.Options{
		{Scenario: "throughput", Duration: 2 * time.Second, Concurrency: 4},
		{Scenario: "decision", Duration: 3 * time.Second, Cases: 20, Rate: 20},
		{Scenario: "link", Duration: 3 * time.Second, Cases: 20, Rate: 20},
		{Scenario: "list", Duration: 2 * time.Second, Cases: 20_000, Rate: 50},
		{Scenario: "memory", Cases: 60, Concurrency: 8},
		{Scenario: "events", Duration: 4 * time.Second, Concurrency: 4, Rate: 20, Cases: 2000},
	} {
		t.Run(o.Scenario, func(t *testing.T) {
			var progress bytes.Buffer
			o.PostgresURL, o.Progress = pg, &progress
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, err := bench.Run(ctx, o)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			if len(rep.Results) == 0 {
				t.Fatalf("no results\n%s", progress.String())
			}
			for _, r := range rep.Results {
				if r.Count == 0 || r.Errors > 0 {
					t.Errorf("%s: %d measured, %d errors (%s)", r.Name, r.Count, r.Errors, r.FirstError)
				}
			}
			path := filepath.Join(t.TempDir(), "out.json")
			if err := rep.WriteJSON(path); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Scenario string           `json:"scenario"`
				Results  []map[string]any `json:"results"`
			}
			if err := json.Unmarshal(raw, &got); err != nil || got.Scenario != o.Scenario {
				t.Fatalf("report %s: %v", raw, err)
			}
			for _, r := range got.Results {
				for _, field := range []string{"scenario", "per_second", "p50_ms", "p99_ms"} {
					if _, ok := r[field]; !ok {
						t.Errorf("a result has no %s: %v", field, r)
					}
				}
			}
			if o.Scenario == "throughput" || o.Scenario == "list" {
				if !strings.Contains(string(raw), `"ratio"`) {
					t.Errorf("no ratio against the baseline: %s", raw)
				}
			}
			var table bytes.Buffer
			rep.WriteTable(&table)
			t.Logf("\n%s", table.String())
		})
	}
}

// What cannot run is refused before anything starts.
func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		o    bench.Options
		want string
	}{
		{bench.Options{Scenario: "speed"}, `no scenario "speed"`},
		{bench.Options{Scenario: "memory", Target: "http://certdesk.example", Token: "t"}, "only list runs against --target"},
		{bench.Options{Scenario: "list", Target: "http://certdesk.example"}, "--target needs --token"},
		{bench.Options{Scenario: "list", Rate: -1}, "fixed --rate"},
		{bench.Options{Scenario: "decision", Cases: -5}, "must not be negative"},
		{bench.Options{Scenario: "memory", Cases: 3}, "needs --cases 20 or more"},
	} {
		_, err := bench.Run(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
	}
}

func TestTableSaysWhetherGoalsWereMet(t *testing.T) {
	met, missed, r := true, false, 0.9
	rep := &bench.Report{Scenario: "throughput", Results: []bench.Result{
		{Scenario: "throughput", Name: "connect", Count: 10, PerSecond: 9, Ratio: &r, Goal: "ratio ≥ 0.85", Met: &met},
		{Scenario: "decision", Name: "approve", Count: 10, P99ms: 30, Goal: "p99 ≤ 25 ms", Met: &missed, FirstError: "boom"},
	}}
	var b bytes.Buffer
	rep.WriteTable(&b)
	for _, want := range []string{"ratio ≥ 0.85 met", "p99 ≤ 25 ms MISSED", "0.90", "approve: first error: boom"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table has no %q:\n%s", want, b.String())
		}
	}
}
