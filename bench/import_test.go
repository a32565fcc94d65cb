package bench_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/certdesk/certdesk/bench"
	"github.com/certdesk/certdesk/store/storetest"
)

// The import scenario, small: both loads complete, every profile is
// imported, and the ratio and the memory figures are reported.
func TestImportScenarioSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("creates two PostgreSQL databases")
	}
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, bench.Options{Scenario: "import", Cases: 3000, PostgresURL: storetest.PostgresAdminURL(), Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if len(rep.Results) != 4 {
		t.Fatalf("results %+v", rep.Results)
	}
	raw, imp, again, mem := rep.Results[0], rep.Results[1], rep.Results[2], rep.Results[3]
	if again.Count != 3000 || again.Errors != 0 || again.Met == nil || !*again.Met {
		t.Errorf("the same file again: %+v", again)
	}
	if raw.Count != 3000 || imp.Count != 3000 || imp.Errors != 0 || imp.Ratio == nil || imp.Extra["certifications"] != 9000 {
		t.Errorf("raw %+v, import %+v", raw, imp)
	}
	if mem.Extra["peak_heap_mb"] <= 0 || mem.Count == 0 {
		t.Errorf("memory %+v", mem)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s\n%s", progress.String(), table.String())
}
