package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
)

// Chen asks a question from his session; Alice sees it is a merge he
// needs and turns the inquiry into one: the merge names the inquiry as its
// parent, the inquiry closes naming the merge. Turning it again, or into a
// kind there is no such thing as, changes nothing.
func TestInquiryTurnedIntoAMerge(t *testing.T) {
	s := start(t)
	chen, alice := s.Login(chenEmail), s.Login("alice.agent@certdesk.example")
	for _, bad := range []map[string]string{{"subject": "", "body": "x"}, {"subject": "x", "body": " "}, {"subject": strings.Repeat("s", 201), "body": "x"}} {
		if r := s.Do("POST", "/api/v1/inquiries", chen, bad); r.Code != http.StatusBadRequest {
			t.Errorf("question %v: %d, want 400", bad, r.Code)
		}
	}
	if r := s.Do("POST", "/api/v1/inquiries", alice, map[string]string{"subject": "x", "body": "y"}); r.Code != http.StatusForbidden {
		t.Errorf("an agent's question: %d, want 403", r.Code)
	}
	r := s.Do("POST", "/api/v1/inquiries", chen, map[string]string{"subject": "Two MCIDs", "body": "I have 100003 and 100004; both are me."})
	if r.Code != http.StatusAccepted {
		t.Fatalf("question: %d %s", r.Code, r.Body)
	}
	var inq certdesk.Case
	r.Decode(t, &inq)
	waiting := s.AwaitStatus(inq.ID, certdesk.StatusAwaitingAgent)
	if ms := messages(t, s, alice, inq.ID); len(ms) != 1 || ms[0].Body != "I have 100003 and 100004; both are me." {
		t.Errorf("the inquiry's conversation: %+v", ms)
	}

	for _, bad := range []map[string]any{{"kind": "unmerge"}, {"kind": "merge", "profile_ids": []string{p3}}, {"kind": "recovery"}} {
		if r := s.Do("POST", "/api/v1/cases/"+inq.ID+"/convert", alice, bad); r.Code != http.StatusBadRequest {
			t.Errorf("convert %v: %d %s, want 400", bad, r.Code, r.Body)
		}
	}
	if r := s.Do("POST", "/api/v1/cases/"+inq.ID+"/convert", chen, map[string]any{"kind": "merge", "profile_ids": []string{p3, p4}}); r.Code != http.StatusForbidden {
		t.Errorf("Chen converting his own inquiry: %d, want 403", r.Code)
	}
	if cs := s.AwaitStatus(inq.ID, certdesk.StatusAwaitingAgent); cs.Version != waiting.Version {
		t.Errorf("refused converts changed the inquiry: version %d, was %d", cs.Version, waiting.Version)
	}
	r = s.Do("POST", "/api/v1/cases/"+inq.ID+"/convert", alice, map[string]any{"kind": "merge", "profile_ids": []string{p3, p4}, "note": "from his question"})
	if r.Code != http.StatusAccepted {
		t.Fatalf("convert: %d %s", r.Code, r.Body)
	}
	var merge certdesk.Case
	r.Decode(t, &merge)
	if merge.Kind != certdesk.KindMerge || merge.ParentCaseID == nil || *merge.ParentCaseID != inq.ID {
		t.Errorf("the merge: %+v", merge)
	}
	done := s.AwaitStatus(inq.ID, certdesk.StatusCompleted)
	var d certdesk.InquiryDetails
	_ = json.Unmarshal(done.Details, &d)
	if done.Resolution != certdesk.InquiryConverted || d.ConvertedTo != merge.ID || d.ConvertedToKind != certdesk.KindMerge {
		t.Errorf("the inquiry ended %s %+v", done.Resolution, d)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "inquiry-converted")
	if r := s.Do("POST", "/api/v1/cases/"+inq.ID+"/convert", alice, map[string]any{"kind": "merge", "profile_ids": []string{p3, p4}}); r.Code != http.StatusConflict {
		t.Errorf("a second convert: %d, want 409", r.Code)
	}
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	var list struct{ Items []certdesk.Case }
	s.Do("GET", "/api/v1/cases?kind=merge", alice, nil).Decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d merge cases, want the one", len(list.Items))
	}
}
