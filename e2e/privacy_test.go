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

// Chen downloads his copy; an agent cannot produce anyone's; a supervisor
// produces Chen's for a request that came by post; a bad address is 400.
// Each copy is on the audit log.
func TestPersonalDataCopies(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	chen, alice, sam := s.Login(chenEmail), s.Login("alice.agent@certdesk.example"), s.Login("sam.supervisor@certdesk.example")
	chensMerge(t, s)
	r := s.Do("GET", "/api/v1/me/personal-data", chen, nil)
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("Chen's copy: %d %v", r.Code, r.Header)
	}
	var mine store.PersonalData
	r.Decode(t, &mine)
	if mine.Email != chenEmail || len(mine.Cases) != 1 || len(mine.CertificationProfiles) != 2 {
		t.Errorf("Chen's copy: %s, %d cases, %d profiles", mine.Email, len(mine.Cases), len(mine.CertificationProfiles))
	}
	if strings.Contains(string(r.Body), "ana.silva@outlook.example") || strings.Contains(string(r.Body), "Dara Murphy") {
		t.Error("Chen's copy holds another learner's data")
	}
	if r := s.Do("GET", "/api/v1/me/personal-data?email=ana.silva@outlook.example", chen, nil); !strings.Contains(string(r.Body), chenEmail) || strings.Contains(string(r.Body), "ana.silva@outlook.example\",\"generated") {
		t.Errorf("a learner asking for someone else's copy got %d %.100s", r.Code, r.Body)
	}
	if r := s.Do("GET", "/api/v1/personal-data?email="+chenEmail, alice, nil); r.Code != http.StatusForbidden {
		t.Errorf("an agent: %d, want 403", r.Code)
	}
	if r := s.Do("GET", "/api/v1/personal-data?email=not-an-address", sam, nil); r.Code != http.StatusBadRequest {
		t.Errorf("a bad address: %d, want 400", r.Code)
	}
	r = s.Do("GET", "/api/v1/personal-data?email="+chenEmail, sam, nil)
	var theirs store.PersonalData
	r.Decode(t, &theirs)
	if r.Code != http.StatusOK || len(theirs.Cases) != 1 {
		t.Errorf("Sam producing Chen's copy: %d, %d cases", r.Code, len(theirs.Cases))
	}
	entries, err := s.Store.AuditLog(ctx, "", "", 100)
	mustStore(t, err)
	n := 0
	for _, e := range entries {
		if e.Action == "personal_data_exported" && strings.Contains(string(e.Data), chenEmail) {
			n++
		}
	}
	if n != 3 { // Chen's two asks (both his own), Sam's
		t.Errorf("%d audit entries of Chen's copies, want 3", n)
	}
}
