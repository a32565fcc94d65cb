package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
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
func listPageOf(n int) store.Page {
	now := time.Now().UTC()
	out := store.Page{Items: make([]certdesk.Case, n), NextCursor: "MDFtOHI2aDk5bWU5djIzYnRyNGYwa2F0ZmQ"}
	for i := range out.Items {
		lp, sla := certdesk.NewID(), now.Add(48*time.Hour)
		out.Items[i] = certdesk.Case{
			ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent,
			Subject: fmt.Sprintf("Merge: Learner %d", i), LearnerName: fmt.Sprintf("Learner %d", i),
			LearnerEmail: fmt.Sprintf("learner.%d@example.org", i), LearningProfileID: &lp,
			ProfileIDs: certdesk.NewID() + " " + certdesk.NewID(), MCIDs: "300001 600001",
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
		data, err := casePageJSON(page)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

func TestCasePageJSONIsTheListShape(t *testing.T) {
	page := listPageOf(2)
	data, err := casePageJSON(page)
	if err != nil {
		t.Fatal(err)
	}
	// The same as the generic list encoding, key for key.
	want := listJSON[caseJSON]{Items: []caseJSON{toCaseJSON(page.Items[0]), toCaseJSON(page.Items[1])}, NextCursor: page.NextCursor}
	wantData, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if err := json.Unmarshal(wantData, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("the page encodes as\n%s\nwant\n%s", data, wantData)
	}
	item := got["items"].([]any)[0].(map[string]any)
	if len(item["profile_ids"].([]any)) != 2 || item["status"] != "awaiting_agent" || item["target_id"] != "x" || item["note"] != "<b>&</b>" {
		t.Fatalf("the first case encodes as %v", item)
	}
	if bytes.Contains(data, []byte("<b>")) {
		t.Fatalf("details are not escaped for HTML: %s", data)
	}
}
