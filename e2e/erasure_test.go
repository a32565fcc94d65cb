package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// decodedHistory is every payload of a workflow's histories (all its runs),
// decoded as the Temporal Web UI's codec server would.
func decodedHistory(t *testing.T, s *stacktest.Stack, workflowID string) (payloads [][]byte, sealedBySubject int) {
	t.Helper()
	ctx := context.Background()
	var hist historypb.History
	it := s.Client.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	err := proxy.VisitPayloads(ctx, &hist, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				if len(p.GetMetadata()[codec.SubjectKeyIDKey]) > 0 {
					sealedBySubject++
				}
			}
			dec, err := s.Codec.Decode(ps)
			if err != nil {
				return nil, err
			}
			for _, p := range dec {
				payloads = append(payloads, p.GetData())
			}
			return ps, nil
		}})
	if err != nil {
		t.Fatalf("decoding %s: %v", workflowID, err)
	}
	raw, _ := protojson.Marshal(&hist)
	return append(payloads, raw), sealedBySubject
}

func holds(payloads [][]byte, text string) bool {
	for _, p := range payloads {
		if bytes.Contains(p, []byte(text)) {
			return true
		}
	}
	return false
}

// Chen asks for his data to be erased. Sam asks for it, a second
// supervisor approves (Sam cannot approve his own); Chen's open inquiry is
// stopped and ends cancelled; his name and addresses then appear nowhere
// in the store (mail captured included), nor in the decoded histories of
// his cases, nor in his export — while Dara's case, another learner's, is
// untouched. Erasing him again finds nothing and harms nothing.
func TestErasingAPersonReachesTheStoreAndTemporalsHistories(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	ctx := context.Background()
	chen, sam := s.Login(chenEmail), s.Login("sam.supervisor@certdesk.example")
	if _, err := s.Store.AddStaff(ctx, store.StaffIdentity{Email: "una.supervisor@certdesk.example", Name: "Una Supervisor", Role: certdesk.RoleSupervisor}); err != nil {
		t.Fatal(err)
	}
	una, alice := s.Login("una.supervisor@certdesk.example"), s.Login("alice.agent@certdesk.example")

	merge := chensMerge(t, s) // completed: Chen's name in its input, activities, results
	r := s.Do("POST", "/api/v1/inquiries", chen, map[string]string{"subject": "My certificate", "body": "Chen Wei here: where is my certificate?"})
	if r.Code != http.StatusAccepted {
		t.Fatalf("inquiry: %d %s", r.Code, r.Body)
	}
	var inquiry certdesk.Case
	r.Decode(t, &inquiry)
	s.AwaitStatus(inquiry.ID, certdesk.StatusAwaitingAgent)
	dara := verifiedRequest(t, s)
	daraCase, _ := s.Store.Case(ctx, dara)

	secrets := []string{"Chen Wei", chenEmail, "c.wei@gmail.example"}
	var workflows []string
	for _, id := range []string{merge.ID, inquiry.ID} {
		cs, err := s.Store.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		workflows = append(workflows, cs.WorkflowID)
		// Before: his own key seals the case's payloads, and they read.
		payloads, sealed := decodedHistory(t, s, cs.WorkflowID)
		if sealed == 0 || !holds(payloads, "Chen Wei") {
			t.Fatalf("%s before the erasure: %d payloads sealed by his key; his name readable: %v", cs.Kind, sealed, holds(payloads, "Chen Wei"))
		}
	}

	// Supervisors only, with a reason; four eyes.
	form := func(token, path string, f stacktest.Form) stacktest.Response { return s.Do("POST", path, token, f) }
	if r := form(alice, "/console/privacy/erasures", stacktest.Form{"email": {chenEmail}, "reason": {"asked by email"}}); r.Code != http.StatusForbidden {
		t.Errorf("an agent asks to erase: %d, want 403", r.Code)
	}
	if r := form(sam, "/console/privacy/erasures", stacktest.Form{"email": {"not-an-address"}, "reason": {" "}}); r.Code != http.StatusBadRequest ||
		!strings.Contains(string(r.Body), "aria-invalid") {
		t.Errorf("a bad request: %d", r.Code)
	}
	if r := form(sam, "/console/privacy/erasures", stacktest.Form{"email": {chenEmail}, "reason": {"asked by email on 3 December"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("Sam asks: %d %s", r.Code, r.Body)
	}
	pending, err := s.Store.Erasures(ctx, 10)
	if err != nil || len(pending) != 1 || !pending[0].Pending() {
		t.Fatalf("pending erasures: %+v %v", pending, err)
	}
	approve := "/console/privacy/erasures/" + pending[0].ID + "/approve"
	if r := form(sam, approve, nil); r.Code != http.StatusForbidden {
		t.Errorf("Sam approves his own: %d, want 403", r.Code)
	}
	if got, _ := s.Store.Case(ctx, inquiry.ID); got.Status.Terminal() || got.LearnerName != "Chen Wei" {
		t.Fatalf("something was erased before the approval: %+v", got)
	}
	if r := form(una, approve, nil); r.Code != http.StatusSeeOther {
		t.Fatalf("Una approves: %d %s", r.Code, r.Body)
	}

	// The open inquiry ended, cancelled, with the reason.
	got, err := s.Store.Case(ctx, inquiry.ID)
	if err != nil || got.Status != certdesk.StatusCancelled || got.Resolution != certdesk.ResolutionErased {
		t.Errorf("the open inquiry: %s/%s %v", got.Status, got.Resolution, err)
	}
	// Nowhere in the store (the captured mail included).
	for _, secret := range secrets {
		found, err := s.Store.Occurrences(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) > 0 {
			t.Errorf("%q is still in the store: %v", secret, found)
		}
	}
	// Nor in the decoded histories: what his key sealed reads "erased".
	for _, wf := range workflows {
		payloads, _ := decodedHistory(t, s, wf)
		for _, secret := range secrets {
			if holds(payloads, secret) {
				t.Errorf("the history of %s still shows %q", wf, secret)
			}
		}
		if !holds(payloads, codec.ErasedText) {
			t.Errorf("the history of %s shows no erased payload", wf)
		}
	}
	// The codec endpoint the Web UI calls says so too.
	cs, _ := s.Store.Case(ctx, merge.ID)
	it := s.Client.GetWorkflowHistory(ctx, cs.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(first.GetWorkflowExecutionStartedEventAttributes().GetInput())
	var shown struct {
		Payloads []struct {
			Data []byte `json:"data"`
		} `json:"payloads"`
	}
	if r := s.Do("POST", "/codec/decode", alice, string(body)); r.Code != http.StatusOK || json.Unmarshal(r.Body, &shown) != nil ||
		len(shown.Payloads) != 1 || !strings.Contains(string(shown.Payloads[0].Data), codec.ErasedText) {
		t.Errorf("the codec endpoint: %d %s", r.Code, r.Body)
	}
	// Nor in the export.
	r = s.Do("GET", "/api/v1/personal-data?email="+chenEmail, sam, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("export: %d", r.Code)
	}
	var export store.PersonalData
	r.Decode(t, &export)
	raw, _ := json.Marshal(export)
	if strings.Contains(string(raw), "Chen Wei") || len(export.Cases) != 0 || len(export.Accounts) != 0 {
		t.Errorf("the export after erasure: %d cases, %d accounts: %s", len(export.Cases), len(export.Accounts), raw)
	}

	// Dara, another learner, is untouched: her case, her history.
	after, err := s.Store.Case(ctx, dara)
	if err != nil || after.LearnerName != "Dara Murphy" || after.Status != daraCase.Status {
		t.Errorf("Dara's case: %+v %v", after.LearnerName, err)
	}
	if payloads, _ := decodedHistory(t, s, daraCase.WorkflowID); !holds(payloads, "Dara Murphy") {
		t.Error("Dara's history no longer reads")
	}
	// What stays: that an erasure happened, why, who — no address.
	done, _ := s.Store.Erasure(ctx, pending[0].ID)
	if done.Email != "" || done.DoneAt == nil || done.Result == nil || done.Result.SubjectKeys == 0 || done.Result.CancelledCases != 1 {
		t.Errorf("the erasure's record: %+v %+v", done, done.Result)
	}
	page := s.Do("GET", "/console/privacy", una, nil)
	if page.Code != http.StatusOK || !strings.Contains(string(page.Body), "keys destroyed") || strings.Contains(string(page.Body), chenEmail) {
		t.Errorf("the privacy page after: %d", page.Code)
	}

	// Twice is harmless: nothing is found, nothing else changes.
	form(sam, "/console/privacy/erasures", stacktest.Form{"email": {chenEmail}, "reason": {"asked again"}})
	again, _ := s.Store.Erasures(ctx, 10)
	if r := form(una, "/console/privacy/erasures/"+again[0].ID+"/approve", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("erasing twice: %d %s", r.Code, r.Body)
	}
	if e, _ := s.Store.Erasure(ctx, again[0].ID); e.Result == nil || e.Result.Cases+e.Result.Accounts+e.Result.SubjectKeys != 0 {
		t.Errorf("the second erasure reached %+v", e.Result)
	}
	if after, _ := s.Store.Case(ctx, dara); after.LearnerName != "Dara Murphy" {
		t.Error("erasing twice touched Dara")
	}
}
