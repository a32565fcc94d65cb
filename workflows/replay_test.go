package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/workflows"
)

// Every committed history replays against the current workflow code: a
// change that would break a case in flight fails here. Histories are
// recorded by the end-to-end tests with CERTDESK_RECORD_HISTORIES=1.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no histories recorded yet")
	}
	// The end-to-end tests record with stacktest's fixed payload key.
	cd, err := codec.Parse(stacktest.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: cd.DataConverter(), FailureConverter: cd.FailureConverter()})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflow(workflows.Connect)
			r.RegisterWorkflow(workflows.Merge)
			r.RegisterWorkflow(workflows.Recovery)
			r.RegisterWorkflow(workflows.Unmerge)
			r.RegisterWorkflow(workflows.Inquiry)
			r.RegisterWorkflow(workflows.CaseReply)
			r.RegisterWorkflow(workflows.InactivitySweep)
			raw, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			hist, err := client.HistoryFromJSON(raw, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
				t.Fatalf("%s does not replay: %v", f, err)
			}
		})
	}
}
