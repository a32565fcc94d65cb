package workflows_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/workflows"
)

// Deployments with cases in flight: a new worker replays the history of
// every case it picks up, so a change to what a workflow does must replay
// the histories written by the old code. The replay suite
// (TestReplayCommittedHistories) is how CI knows; this test shows it catches
// an incompatible change, and that the same change behind workflow.GetVersion
// replays.
//
// The changes are made to copies of the real workflows registered under the
// real names, as a new deployment would register them.
func TestReplayCatchesAChangeWithoutGetVersion(t *testing.T) {
	changes := []struct {
		name string
		// change returns the workflow with the change, made plainly or
		// behind workflow.GetVersion.
		change func(versioned bool) func(workflow.Context, any) error
		// last: the step comes after everything the old code did, else
		// before anything.
		last bool
	}{
		{"a new first step", newFirstStep, false},
		{"a new last step", newLastStep, true},
	}
	kinds := []struct {
		name string
		wrap func(step func(workflow.Context, any) error, last bool) any
	}{
		{"Connect", wrap(workflows.Connect)},
		{"Merge", wrap(workflows.Merge)},
		{"Recovery", wrap(workflows.Recovery)},
	}
	for _, kind := range kinds {
		files, err := filepath.Glob("testdata/histories/" + strings.ToLower(kind.name) + "-*.json")
		if err != nil || len(files) == 0 {
			t.Fatalf("no committed histories of %s (%v)", kind.name, err)
		}
		for _, ch := range changes {
			last := ch.last
			t.Run(kind.name+"/"+ch.name, func(t *testing.T) {
				caught := 0
				for _, f := range files {
					hist := load(t, f)
					if !closed(hist) {
						// A history that stops early cannot show a change
						// made after where it stops.
						t.Errorf("%s stops before its workflow's end: record it whole", filepath.Base(f))
						continue
					}
					err := replay(t, hist, kind.name, kind.wrap(ch.change(false), last))
					switch {
					case err == nil || !strings.Contains(err.Error(), nondeterminism):
						t.Errorf("%s replayed against %s with %s and no GetVersion: %v; want a nondeterminism error (%s)",
							filepath.Base(f), kind.name, ch.name, err, nondeterminism)
					default:
						caught++
					}
					// A history freshly loaded: the SDK merges a run's upserts
					// into the started event's search attributes it was given.
					if err := replay(t, load(t, f), kind.name, kind.wrap(ch.change(true), last)); err != nil {
						t.Errorf("%s does not replay against %s with %s behind GetVersion: %v", filepath.Base(f), kind.name, ch.name, err)
					}
				}
				if caught == 0 {
					t.Errorf("no history of %s caught %s", kind.name, ch.name)
				}
			})
		}
	}
}

// nondeterminism is the code of the SDK's nondeterminism errors: what a
// worker reports, and keeps retrying, when a case's history does not match
// the code it runs.
const nondeterminism = "[TMPRL1100]"

// closed reports whether a history runs to the workflow's end.
func closed(h *historypb.History) bool {
	evs := h.GetEvents()
	return len(evs) > 0 && evs[len(evs)-1].GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
}

// changeID names the change for workflow.GetVersion: one id per change,
// kept for as long as histories without it may replay.
const changeID = "supervisors-lookup"

// newFirstStep is a change at the start: the case looks the supervisors up
// before it does anything else (a new activity).
func newFirstStep(versioned bool) func(workflow.Context, any) error {
	return func(ctx workflow.Context, _ any) error {
		if versioned && workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return nil // a case started before the change: as the old code did
		}
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		var acts *activities.Activities
		return workflow.ExecuteActivity(ctx, acts.Supervisors).Get(ctx, nil)
	}
}

// newLastStep is a change at the end: the case waits a minute before it
// closes (a new timer).
func newLastStep(versioned bool) func(workflow.Context, any) error {
	return func(ctx workflow.Context, _ any) error {
		if versioned && workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return nil
		}
		return workflow.Sleep(ctx, time.Minute)
	}
}

// wrap makes the changed copy of a workflow: the step runs first, or last.
func wrap[In, Out any](wf func(workflow.Context, In) (Out, error)) func(step func(workflow.Context, any) error, last bool) any {
	return func(step func(workflow.Context, any) error, last bool) any {
		return func(ctx workflow.Context, in In) (Out, error) {
			var zero Out
			if !last {
				if err := step(ctx, in); err != nil {
					return zero, err
				}
			}
			out, err := wf(ctx, in)
			if err != nil || !last {
				return out, err
			}
			if err := step(ctx, in); err != nil {
				return zero, err
			}
			return out, nil
		}
	}
}

func load(t *testing.T, file string) *historypb.History {
	t.Helper()
	raw, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	hist, err := client.HistoryFromJSON(raw, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

// replay replays a committed history against the changed workflow,
// registered under the real workflow's name, beside the other real ones.
func replay(t *testing.T, hist *historypb.History, name string, changed any) error {
	t.Helper()
	cd, err := codec.Parse(stacktest.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: cd.DataConverter(), FailureConverter: cd.FailureConverter()})
	if err != nil {
		t.Fatal(err)
	}
	for wfName, wf := range map[string]any{"Connect": workflows.Connect, "Merge": workflows.Merge, "Recovery": workflows.Recovery} {
		if wfName != name {
			r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: wfName})
		}
	}
	r.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: name})
	// The replayer logs the panic of a nondeterministic task; the error
	// says it.
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return r.ReplayWorkflowHistory(quiet, hist)
}
