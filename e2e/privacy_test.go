package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// The daily sweep redacts the cases that ended longer than the retention
// ago: Chen's merge keeps its kind, outcome and dates for the figures, and
// loses his name, his message and the preview of his profiles; Dara's open
// recovery is untouched. The API shows the redacted case as it now is.
func TestEndedCasesAreRedactedAfterTheRetention(t *testing.T) {
	s := start(t, func(c *config.Config) { c.Retention = time.Millisecond })
	ctx := context.Background()
	alice := s.Login("alice.agent@certdesk.example")
	merge := chensMerge(t, s)
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/replies", alice, map[string]string{"body": "Merged, Chen Wei."}); r.Code != http.StatusCreated {
		t.Fatalf("reply: %d %s", r.Code, r.Body)
	}
	recovery := verifiedRequest(t, s)

	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-" + certdesk.NewID(), TaskQueue: s.Config.TaskQueue},
		workflows.InactivitySweep, workflows.SweepInput{AsOf: time.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Redacted < 1 {
		t.Fatalf("the sweep redacted %d cases", res.Redacted)
	}
	s.RecordHistory(run.GetID(), run.GetRunID(), "sweep-redacts-cases")

	var got struct {
		certdesk.Case
		Details map[string]any `json:"details"`
	}
	s.Do("GET", "/api/v1/cases/"+merge.ID, alice, nil).Decode(t, &got)
	if got.Subject != store.Redacted || got.Kind != certdesk.KindMerge || got.Status != certdesk.StatusCompleted || got.Resolution != certdesk.MergeMerged || len(got.Details) != 0 {
		t.Errorf("the redacted merge: %+v", got)
	}
	for _, m := range messages(t, s, alice, merge.ID) {
		if strings.Contains(m.Body, "Chen") {
			t.Errorf("a message still says %q", m.Body)
		}
	}
	if open, err := s.Store.Case(ctx, recovery); err != nil || open.LearnerName != "Dara Murphy" {
		t.Errorf("the open recovery: %+v %v", open.LearnerName, err)
	}
}
