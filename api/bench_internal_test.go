package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// listPageOf is a full page of the case list as the API answers it.
func listPageOf(n int) store.Page {
	now := time.Now().UTC()
	out := store.Page{Items: make([]certdesk.Case, n), NextCursor: "MDFtOHI2aDk5bWU5djIzYnRyNGYwa2F0ZmQ"}
	for i := range out.Items {
		lp, sla := certdesk.NewID(), now.Add(48*time.Hour)
		out.Items[i] = certdesk.Case{
			ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent,
			Subject: fmt.Sprintf("Merge: Learner %d", i), LearnerName: fmt.Sprintf("Learner %d", i),
			LearnerEmail: fmt.Sprintf("learner.%d@example.org", i), LearningProfileID: &lp,
			ProfileIDs: []string{certdesk.NewID(), certdesk.NewID()}, MCIDs: []string{"300001", "600001"},
			Requester: certdesk.AgentActor(certdesk.NewID()), SLADueAt: &sla, WorkflowID: certdesk.NewID(),
			Version: 4, Details: json.RawMessage(`{"target_id":"x","preview":{"certifications":2},"note":"<b>&</b>"}`), CreatedAt: now, UpdatedAt: now,
		}
	}
	return out
}

// BenchmarkCasePageJSON is the encoding of a page of 50 cases, as GET
// /api/v1/cases writes it.
func BenchmarkCasePageJSON(b *testing.B) {
	page := listPageOf(50)
	b.ReportAllocs()
	for b.Loop() {
		data, err := casePageJSON(page, true)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

// A case has one shape: the common fields, its kind's details under
// details (never spread at the top level), profile_ids an array, and the
// workflow's ids for staff only.
func TestCasePageJSONShape(t *testing.T) {
	page := listPageOf(2)
	for _, staff := range []bool{true, false} {
		data, err := casePageJSON(page, staff)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		if len(got.Items) != 2 || got.NextCursor != page.NextCursor {
			t.Fatalf("page %s", data)
		}
		item := got.Items[0]
		details, _ := item["details"].(map[string]any)
		if len(item["profile_ids"].([]any)) != 2 || item["status"] != "awaiting_agent" || details["target_id"] != "x" || details["note"] != "<b>&</b>" {
			t.Fatalf("the first case encodes as %v", item)
		}
		for _, spread := range []string{"target_id", "preview", "note", "mcids", "workflow_step"} {
			if _, ok := item[spread]; ok {
				t.Errorf("%q is at the top level of a case", spread)
			}
		}
		if _, ok := item["workflow_id"]; ok != staff {
			t.Errorf("staff %v: workflow_id shown %v", staff, ok)
		}
		if bytes.Contains(data, []byte("<b>")) {
			t.Fatalf("details are not escaped for HTML: %s", data)
		}
	}
}
