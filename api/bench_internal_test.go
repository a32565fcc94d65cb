package api

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
)

// BenchmarkSessionTokenCheck is the first step of every signed-in request:
// the session token's signature and expiry (the row is looked up after).
func BenchmarkSessionTokenCheck(b *testing.B) {
	s := newSigner("bench-secret-bench-secret-bench-secret", time.Now)
	tok := s.token(sessionClaims{ID: certdesk.NewID(), Subject: "agent:" + certdesk.NewID(), Expires: time.Now().Add(time.Hour).Unix()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// listPageOf is a full page of the case list as the API answers it.
func listPageOf(n int) listJSON[caseJSON] {
	now := time.Now().UTC()
	out := listJSON[caseJSON]{Items: make([]caseJSON, n), NextCursor: "MDFtOHI2aDk5bWU5djIzYnRyNGYwa2F0ZmQ"}
	for i := range out.Items {
		lp, sla := certdesk.NewID(), now.Add(48*time.Hour)
		out.Items[i] = toCaseJSON(certdesk.Case{
			ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent,
			Subject: fmt.Sprintf("Merge: Learner %d", i), LearnerName: fmt.Sprintf("Learner %d", i),
			LearnerEmail: fmt.Sprintf("learner.%d@example.org", i), LearningProfileID: &lp,
			ProfileIDs: certdesk.NewID() + " " + certdesk.NewID(), MCIDs: "300001 600001",
			Requester: certdesk.AgentActor(certdesk.NewID()), SLADueAt: &sla, WorkflowID: certdesk.NewID(),
			Version: 4, Details: json.RawMessage(`{"target_id":"x","preview":{"certifications":2}}`), CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}

// BenchmarkCasePageJSON is the encoding of a page of 50 cases, as GET
// /api/v1/cases writes it.
func BenchmarkCasePageJSON(b *testing.B) {
	page := listPageOf(50)
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(page)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

func TestCasePageJSONIsTheListShape(t *testing.T) {
	data, err := json.Marshal(listPageOf(2))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Items []struct {
			ID         string   `json:"id"`
			ProfileIDs []string `json:"profile_ids"`
			Status     string   `json:"status"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 || len(got.Items[0].ProfileIDs) != 2 || got.Items[0].Status != "awaiting_agent" || got.NextCursor == "" {
		t.Fatalf("the page encodes as %s", data)
	}
}
