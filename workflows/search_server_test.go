package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// found is a workflow a visibility query found: its case (CaseId) and the
// ids to reach its run.
type found struct {
	caseID, workflowID, runID string
	attrs                     map[string]any
}

// listCases runs a visibility query among the stack's workflows (its own
// task queue: the tests of a process share the Temporal server).
func listCases(t *testing.T, s *stacktest.Stack, query string) []found {
	t.Helper()
	resp, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND (%s)", s.Config.TaskQueue, query),
	})
	if err != nil {
		t.Fatalf("list %q: %v", query, err)
	}
	var out []found
	for _, e := range resp.GetExecutions() {
		f := found{workflowID: e.GetExecution().GetWorkflowId(), runID: e.GetExecution().GetRunId(), attrs: map[string]any{}}
		for name, p := range e.GetSearchAttributes().GetIndexedFields() {
			var v any
			if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err == nil {
				f.attrs[name] = v
			}
		}
		f.caseID, _ = f.attrs["CaseId"].(string)
		out = append(out, f)
	}
	return out
}

// awaitCases polls a query (visibility is eventually consistent) until it
// finds exactly the cases named, and returns them.
func awaitCases(t *testing.T, s *stacktest.Stack, query string, caseIDs ...string) []found {
	t.Helper()
	slices.Sort(caseIDs)
	var got []found
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = listCases(t, s, query)
		ids = ids[:0]
		for _, f := range got {
			ids = append(ids, f.caseID)
		}
		slices.Sort(ids)
		if slices.Equal(ids, caseIDs) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %q finds cases %q, want %q", query, ids, caseIDs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// On the embedded server (SQLite visibility), cases are found with
// Temporal's own queries on their search attributes, as an operator would
// (temporal workflow list --query …): by kind and status, escalated; and
// the attributes follow the case to its end. The runs are
// recorded for the replay suite (CERTDESK_RECORD_HISTORIES=1).
func TestFindCasesWithTemporalQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{Configure: func(c *config.Config) {
		c.AgentSLA = 2 * time.Second  // the merge escalates while the test looks
		c.VerifyTTL = 3 * time.Second // the recovery expires unverified
	}})
	chen, ben, ana := s.Login("chen.wei@outlook.example"), s.Login("ben.okafor@contoso.example"), s.Login("ana.silva@outlook.example")
	agent := s.Login("alice.agent@certdesk.example")

	var merge, anaCase, benCase certdesk.Case
	post := func(path, token string, body any, into *certdesk.Case) {
		t.Helper()
		r := s.Do("POST", path, token, body)
		if r.Code != http.StatusAccepted {
			t.Fatalf("POST %s = %d %s", path, r.Code, r.Body)
		}
		r.Decode(t, into)
	}
	post("/api/v1/merge-requests", chen, map[string]any{"profile_ids": []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}}, &merge)
	post("/api/v1/connect-requests", ana, nil, &anaCase)
	post("/api/v1/connect-requests", ben, nil, &benCase)
	if r := s.Do("POST", "/api/v1/recovery-requests", "", map[string]string{
		"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example", "mcid": "100005",
		"new_account_email": "dara.m@proton.example", "description": "My old Outlook account was closed.",
	}); r.Code != http.StatusAccepted {
		t.Fatalf("recovery request = %d %s", r.Code, r.Body)
	}
	// The store's projection names each case's workflow (the API shows
	// it to staff only).
	merge = s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	anaCase = s.AwaitStatus(anaCase.ID, certdesk.StatusCompleted)
	benCase = s.AwaitStatus(benCase.ID, certdesk.StatusAwaitingLearner)

	// The README's example: exactly the merge waiting for an agent.
	got := awaitCases(t, s, `CaseStatus="awaiting_agent" AND CaseKind="merge"`, merge.ID)
	if got[0].workflowID != merge.WorkflowID {
		t.Errorf("the merge case's workflow is %s, the query found %s", merge.WorkflowID, got[0].workflowID)
	}
	awaitCases(t, s, `CaseKind="connect" AND CaseStatus="awaiting_learner"`, benCase.ID)
	awaitCases(t, s, `CaseKind="connect" AND CaseStatus="completed"`, anaCase.ID)
	awaitCases(t, s, `CaseKind="connect"`, anaCase.ID, benCase.ID)
	rec := awaitOne(t, s, `CaseKind="recovery" AND CaseStatus="awaiting_learner"`)
	if !certdesk.ValidID(rec.caseID) || rec.attrs["CaseEscalated"] != false {
		t.Errorf("the recovery case's attributes: %v", rec.attrs)
	}

	// The SLA passes: the merge is escalated, still waiting.
	s.AwaitCase(merge.ID, "escalated", func(c certdesk.Case) bool { return c.Escalated })
	awaitCases(t, s, `CaseEscalated=true`, merge.ID)
	awaitCases(t, s, `CaseEscalated=true AND CaseStatus="awaiting_agent" AND CaseKind="merge"`, merge.ID)

	// Decided: the attributes follow the case to its end.
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/decision", agent, map[string]string{"decision": "approve"}); r.Code != http.StatusOK {
		t.Fatalf("decision = %d %s", r.Code, r.Body)
	}
	awaitCases(t, s, `CaseStatus="completed" AND CaseKind="merge"`, merge.ID)
	awaitCases(t, s, `CaseStatus="awaiting_agent"`)
	awaitCases(t, s, `CaseKind="recovery" AND CaseStatus="expired"`, rec.caseID)

	// Nothing personal: every attribute of every case is an id or a state.
	for _, f := range listCases(t, s, `CaseId IS NOT NULL`) {
		for name, v := range f.attrs {
			if str, ok := v.(string); ok && (strings.Contains(str, "@") || strings.Contains(str, " ")) {
				t.Errorf("case %s: search attribute %s = %q", f.caseID, name, str)
			}
		}
	}

	s.RecordHistory(merge.WorkflowID, merge.RunID, "merge-search-escalated-approved")
	s.RecordHistory(anaCase.WorkflowID, anaCase.RunID, "connect-search-ana-at-once")
	s.RecordHistory(rec.workflowID, rec.runID, "recovery-search-expired")
}

// awaitOne polls a query until it finds exactly one case, and returns it.
func awaitOne(t *testing.T, s *stacktest.Stack, query string) found {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := listCases(t, s, query); len(got) == 1 {
			return got[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("query %q finds %d cases, want 1", query, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An agent's claim through the API reaches the case's workflow (the desk
// signals it, SignalAssigneeChanged): the case is found by its assignee's
// id.
func TestClaimedCaseFoundByAssignee(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{})
	merge := chensMerge(t, s)
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	awaitCases(t, s, `CaseKind="merge" AND CaseAssignee IS NULL`, merge.ID)
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/claim", s.Login("bob.agent@certdesk.example"), map[string]any{}); r.Code != http.StatusOK {
		t.Fatalf("claim = %d %s", r.Code, r.Body)
	}
	awaitCases(t, s, fmt.Sprintf(`CaseAssignee=%q`, bob), merge.ID)
}

// A connect case's merge child is a case of its own, found as one from its
// start: its own id and kind, not its parent's.
func TestConnectsMergeChildFoundAsACase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{})
	var connect certdesk.Case
	r := s.Do("POST", "/api/v1/connect-requests", s.Login("chen.wei@outlook.example"), nil)
	if r.Code != http.StatusAccepted {
		t.Fatalf("connect request = %d %s", r.Code, r.Body)
	}
	r.Decode(t, &connect)
	var childID string
	connect = s.AwaitCase(connect.ID, "running a merge", func(c certdesk.Case) bool {
		var d certdesk.ConnectDetails
		_ = json.Unmarshal(c.Details, &d)
		childID = d.MergeCaseID
		return childID != ""
	})
	child := awaitCases(t, s, `CaseKind="merge" AND CaseStatus="awaiting_agent"`, childID)[0]
	awaitCases(t, s, `CaseKind="connect" AND CaseStatus="open"`, connect.ID)
	if r := s.Do("POST", "/api/v1/cases/"+childID+"/decision", s.Login("alice.agent@certdesk.example"),
		map[string]string{"decision": "approve"}); r.Code != http.StatusOK {
		t.Fatalf("decision = %d %s", r.Code, r.Body)
	}
	awaitCases(t, s, `CaseStatus="completed"`, connect.ID, childID)
	s.RecordHistory(connect.WorkflowID, connect.RunID, "connect-search-chen-merge")
	s.RecordHistory(child.workflowID, child.runID, "merge-search-child-approved")
}

// Who holds a case reaches its workflow as SignalAssigneeChanged (the desk
// sends it after a claim): the case is found by the agent's id, never a
// name or an email; nobody (a release) unsets it. (A signal older than what
// the workflow knows is ignored: TestSearchAttributesFollowAMergeCase.)
func TestCaseAssigneeFollowsTheSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{})
	merge := chensMerge(t, s)
	merge = s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	cur, err := s.Store.Case(context.Background(), merge.ID)
	if err != nil {
		t.Fatal(err)
	}
	assign := func(who string) {
		t.Helper()
		cur.Version++ // later than anything the workflow knows
		if err := s.Client.SignalWorkflow(context.Background(), merge.WorkflowID, "", workflows.SignalAssigneeChanged,
			workflows.AssigneeChanged{Assignee: who, Version: cur.Version}); err != nil {
			t.Fatal(err)
		}
	}
	assign(alice)
	awaitCases(t, s, fmt.Sprintf(`CaseAssignee=%q`, alice), merge.ID)
	assign("")
	awaitCases(t, s, `CaseKind="merge" AND CaseAssignee IS NULL`, merge.ID)
	awaitCases(t, s, fmt.Sprintf(`CaseAssignee=%q`, alice))
}

// chensMerge opens Chen's merge of his two profiles, as Chen.
func chensMerge(t *testing.T, s *stacktest.Stack) certdesk.Case {
	t.Helper()
	var merge certdesk.Case
	r := s.Do("POST", "/api/v1/merge-requests", s.Login("chen.wei@outlook.example"),
		map[string]any{"profile_ids": []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}})
	if r.Code != http.StatusAccepted {
		t.Fatalf("merge request = %d %s", r.Code, r.Body)
	}
	r.Decode(t, &merge)
	return merge
}
