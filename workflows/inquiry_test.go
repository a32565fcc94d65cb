package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

func chenQuestion() workflows.InquiryInput {
	return workflows.InquiryInput{CaseID: certdesk.NewID(), Subject: "Two MCIDs?", Channel: "portal", RequestedBy: chenActor,
		LearnerName: "Chen Wei", LearnerEmail: chenEmail, AccountID: chenAcct, LearningProfileID: chenLP, AgentSLA: workflows.Duration(48 * time.Hour)}
}

// An agent resolves Chen's question: the case completes as answered; the
// decisions of other kinds are refused, and nothing changes for them.
func TestInquiryResolved(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenQuestion()
	wrong := e.decideAt(time.Hour, "", approve(alice))
	ans := e.decideAt(2*time.Hour, "", workflows.DecisionInput{Decision: certdesk.DecisionResolve, Note: "answered by email", AgentID: alice, Role: certdesk.RoleAgent})
	e.ExecuteWorkflow(workflows.Inquiry, in)

	if !e.IsWorkflowCompleted() || e.GetWorkflowError() != nil {
		t.Fatalf("the inquiry: %v", e.GetWorkflowError())
	}
	var res workflows.InquiryResult
	_ = e.GetWorkflowResult(&res)
	if wrong.refused == nil || !ans.accepted || res.Status != certdesk.StatusCompleted || res.Resolution != certdesk.InquiryAnswered {
		t.Fatalf("approve: %v; resolve: %+v; result %+v", wrong.refused, ans, res)
	}
	if got, want := e.events(in.CaseID), []string{"opened", "awaiting_agent", "decided", "completed"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if cs := e.caseOf(in.CaseID); cs.LearnerEmail != chenEmail || cs.AccountID == nil || *cs.AccountID != chenAcct {
		t.Errorf("the case: %+v", cs)
	}
}

// Converting names the new case, or is refused; the inquiry then completes
// as converted with the new case in its details.
func TestInquiryConverted(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenQuestion()
	child := certdesk.NewID()
	unnamed := e.decideAt(time.Hour, "", workflows.DecisionInput{Decision: certdesk.DecisionConvert, AgentID: alice, Role: certdesk.RoleAgent})
	named := e.decideAt(2*time.Hour, "", workflows.DecisionInput{Decision: certdesk.DecisionConvert, AgentID: alice, Role: certdesk.RoleAgent,
		ConvertedTo: child, ConvertedKind: certdesk.KindMerge})
	e.ExecuteWorkflow(workflows.Inquiry, in)

	var res workflows.InquiryResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if unnamed.refused == nil || !strings.Contains(unnamed.refused.Error(), "names the case") {
		t.Errorf("a conversion naming no case: %v, want refused", unnamed.refused)
	}
	if !named.accepted || res.Resolution != certdesk.InquiryConverted || res.ConvertedTo != child {
		t.Fatalf("the conversion: %+v, result %+v", named, res)
	}
	if d := e.caseOf(in.CaseID).Details; !strings.Contains(string(d), child) || !strings.Contains(string(d), `"converted_to_kind":"merge"`) {
		t.Errorf("details %s", d)
	}
}

// An unanswered question escalates after the SLA like every case, and still
// waits for its answer.
func TestInquiryEscalates(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenQuestion()
	var at49 certdesk.Case
	e.RegisterDelayedCallback(func() { at49 = e.caseOf(in.CaseID) }, 49*time.Hour)
	e.decideAt(50*time.Hour, "", workflows.DecisionInput{Decision: certdesk.DecisionResolve, AgentID: bob, Role: certdesk.RoleAgent})
	e.ExecuteWorkflow(workflows.Inquiry, in)
	if !at49.Escalated || at49.Status != certdesk.StatusAwaitingAgent {
		t.Errorf("at 49 h: %s escalated=%v", at49.Status, at49.Escalated)
	}
	if ms := e.mails("sam.supervisor@certdesk.example"); len(ms) != 1 || ms[0].CaseID != in.CaseID {
		t.Errorf("supervisors' mail: %v", mailKinds(ms))
	}
}
