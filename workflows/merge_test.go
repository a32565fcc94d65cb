package workflows_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/workflows"
)

// Chen Wei's duplicates, and the people who work them.
var (
	chenOld   = store.DemoID("profile:100004") // the oldest: the target unless told otherwise
	chenNew   = store.DemoID("profile:100003") // owned by his learning profile's account
	chenLP    = store.DemoID("lp:chen")
	chenAcct  = store.DemoID("account:chen.wei@outlook.example")
	chenActor = certdesk.LearnerActor(chenAcct)
	alice     = store.DemoID("agent:alice.agent@certdesk.example")
	bob       = store.DemoID("agent:bob.agent@certdesk.example")
)

const chenEmail = "chen.wei@outlook.example"

// chenMerge is Chen's request to merge his two profiles.
func chenMerge() workflows.MergeInput {
	return workflows.MergeInput{
		CaseID: certdesk.NewID(), ProfileIDs: []string{chenNew, chenOld}, Note: "these are both me",
		RequestedBy: chenActor, LearningProfileID: chenLP, AccountID: chenAcct, AgentSLA: workflows.Duration(48 * time.Hour),
	}
}

// answer is what the decide update answered.
type answer struct {
	accepted bool
	refused  error
}

// decideAt sends an agent's decision at a time of the workflow's clock
// (to a child workflow when workflowID is set).
func (e *env) decideAt(at time.Duration, workflowID string, in workflows.DecisionInput) *answer {
	a := &answer{}
	e.RegisterDelayedCallback(func() {
		cb := &testsuite.TestUpdateCallback{
			OnAccept:   func() { a.accepted = true },
			OnReject:   func(err error) { a.refused = err },
			OnComplete: func(any, error) {},
		}
		if workflowID == "" {
			e.UpdateWorkflow(workflows.UpdateDecide, "", cb, in)
		} else if err := e.UpdateWorkflowByID(workflowID, workflows.UpdateDecide, "", cb, in); err != nil {
			a.refused = err
		}
	}, at)
	return a
}

func approve(agent string) workflows.DecisionInput {
	return workflows.DecisionInput{Decision: certdesk.DecisionApprove, AgentID: agent, Role: certdesk.RoleAgent}
}

func reject(agent, note string) workflows.DecisionInput {
	return workflows.DecisionInput{Decision: certdesk.DecisionReject, Note: note, AgentID: agent, Role: certdesk.RoleAgent}
}

// mergeResult runs the workflow to its end and returns its result.
func (e *env) mergeResult() workflows.MergeResult {
	e.t.Helper()
	if !e.IsWorkflowCompleted() {
		e.t.Fatal("the workflow did not complete")
	}
	if err := e.GetWorkflowError(); err != nil {
		e.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.MergeResult
	if err := e.GetWorkflowResult(&res); err != nil {
		e.t.Fatal(err)
	}
	return res
}

// profile reads a certification profile.
func (e *env) profile(id string) certdesk.CertificationProfile {
	e.t.Helper()
	p, err := e.store.CertificationProfile(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// mergeDetails decodes a merge case's details.
func (e *env) mergeDetails(id string) certdesk.MergeDetails {
	e.t.Helper()
	var d certdesk.MergeDetails
	if err := json.Unmarshal(e.caseOf(id).Details, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// eventOf returns the last event of a type on a case's timeline.
func (e *env) eventOf(caseID, typ string) certdesk.CaseEvent {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), caseID, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if string(evs[i].Type) == typ {
			return evs[i]
		}
	}
	e.t.Fatalf("no %q event on the timeline %v", typ, e.events(caseID))
	return certdesk.CaseEvent{}
}

func mailKinds(ms []store.CapturedMail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Kind)
	}
	return out
}

func TestMergeApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		in := chenMerge()
		var before certdesk.Case
		e.RegisterDelayedCallback(func() { before = e.caseOf(in.CaseID) }, 30*time.Minute)
		ans := e.decideAt(time.Hour, "", approve(alice))
		e.ExecuteWorkflow(workflows.Merge, in)

		res := e.mergeResult()
		if !ans.accepted || res.Status != certdesk.StatusCompleted || res.Resolution != certdesk.MergeMerged || res.SurvivorID != chenOld {
			t.Fatalf("result %+v (approval accepted %v), want completed/merged into 100004", res, ans.accepted)
		}
		if before.Status != certdesk.StatusAwaitingAgent || before.SLADueAt == nil || before.Requester != chenActor {
			t.Errorf("before the decision: %s, SLA %v, requester %s", before.Status, before.SLADueAt, before.Requester)
		}
		want := []string{"opened", "preview", "awaiting_agent", "decided", "merged", "completed"}
		if got := e.events(in.CaseID); !slices.Equal(got, want) {
			t.Errorf("timeline %v, want %v", got, want)
		}
		for typ, actor := range map[string]certdesk.Actor{"opened": chenActor, "decided": certdesk.AgentActor(alice), "merged": certdesk.AgentActor(alice)} {
			if got := e.eventOf(in.CaseID, typ).Actor; got != actor {
				t.Errorf("%s by %s, want %s", typ, got, actor)
			}
		}
		var merged map[string]any
		_ = json.Unmarshal(e.eventOf(in.CaseID, "merged").Data, &merged)
		if merged["certifications_moved"] != 2.0 || merged["transcript_moved"] != 2.0 || merged["duplicates_collapsed"] != 1.0 {
			t.Errorf("merged event %v: want 2 certifications, 2 exams, 1 duplicate", merged)
		}
		cs := e.caseOf(in.CaseID)
		d := e.mergeDetails(in.CaseID)
		if cs.LearningProfileID == nil || *cs.LearningProfileID != chenLP || cs.SLADueAt != nil || cs.ClosedAt == nil ||
			d.TargetID != chenOld || d.TargetReason != certdesk.TargetOldest || !d.NamesMatch || d.Result == nil || d.Result.CertificationsMoved != 2 {
			t.Errorf("case %+v details %+v", cs, d)
		}
		if src := e.profile(chenNew); src.Status != certdesk.ProfileMerged || src.MergedIntoID == nil || *src.MergedIntoID != chenOld {
			t.Errorf("source after the merge: %+v", src)
		}
		ms := e.mails(chenEmail)
		if len(ms) != 1 || ms[0].Kind != mail.MergeCompleted || ms[0].CaseID != in.CaseID ||
			!strings.Contains(ms[0].Text, "100003 are merged into MCID 100004") || !strings.Contains(ms[0].Text, "2 certifications and 2 exam results") {
			t.Errorf("mail to Chen: %v", ms)
		}
	})
}

func TestMergeRejected(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenMerge()
	noNote := e.decideAt(time.Hour, "", reject(bob, "  "))
	withNote := e.decideAt(2*time.Hour, "", reject(bob, "These profiles belong to two people."))
	e.ExecuteWorkflow(workflows.Merge, in)

	res := e.mergeResult()
	if noNote.refused == nil || !strings.Contains(noNote.refused.Error(), "needs a note") {
		t.Errorf("a rejection without a note: %v, want refused", noNote.refused)
	}
	if !withNote.accepted || res.Status != certdesk.StatusRejected || res.Resolution != certdesk.MergeRejectedByAgent || res.SurvivorID != "" {
		t.Fatalf("result %+v", res)
	}
	want := []string{"opened", "preview", "awaiting_agent", "decided", "rejected"}
	if got := e.events(in.CaseID); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	var decided map[string]any
	_ = json.Unmarshal(e.eventOf(in.CaseID, "decided").Data, &decided)
	if decided["decision"] != "reject" || decided["note"] != "These profiles belong to two people." {
		t.Errorf("decided event %v", decided)
	}
	ms := e.mails(chenEmail)
	if len(ms) != 1 || ms[0].Kind != mail.MergeRejected || !strings.Contains(ms[0].Text, "These profiles belong to two people.") {
		t.Errorf("mail to Chen: %v", ms)
	}
	if p := e.profile(chenNew); p.Status != certdesk.ProfileActive {
		t.Errorf("a rejected merge changed the profile: %+v", p)
	}
}

// A merge an agent requested is approved by another agent.
func TestMergeFourEyes(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenMerge()
	in.RequestedBy, in.LearningProfileID, in.AccountID = certdesk.AgentActor(alice), "", ""
	own := e.decideAt(time.Hour, "", approve(alice))
	other := e.decideAt(2*time.Hour, "", approve(bob))
	e.ExecuteWorkflow(workflows.Merge, in)

	res := e.mergeResult()
	if own.refused == nil || !strings.Contains(own.refused.Error(), "another agent must approve") {
		t.Errorf("the requester approving: %v, want refused (four eyes)", own.refused)
	}
	if !other.accepted || res.Resolution != certdesk.MergeMerged {
		t.Fatalf("another agent approving: %+v, result %+v", other, res)
	}
	if got := e.eventOf(in.CaseID, "decided").Actor; got != certdesk.AgentActor(bob) {
		t.Errorf("decided by %s, want bob", got)
	}
	// The case is about Chen all the same: his account owns one of the profiles.
	if cs := e.caseOf(in.CaseID); cs.LearningProfileID == nil || *cs.LearningProfileID != chenLP {
		t.Errorf("agent-requested case not linked to Chen: %+v", cs)
	}
}

// After the SLA the case is escalated once, supervisors are emailed, and it
// keeps waiting for a decision.
func TestMergeEscalatesAfterSLA(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenMerge()
	var at47, at49 certdesk.Case
	e.RegisterDelayedCallback(func() { at47 = e.caseOf(in.CaseID) }, 47*time.Hour)
	e.RegisterDelayedCallback(func() { at49 = e.caseOf(in.CaseID) }, 49*time.Hour)
	ans := e.decideAt(72*time.Hour, "", approve(bob))
	e.ExecuteWorkflow(workflows.Merge, in)

	res := e.mergeResult()
	if at47.Escalated || at47.Status != certdesk.StatusAwaitingAgent {
		t.Errorf("at 47 h: %s escalated=%v, want awaiting, not escalated", at47.Status, at47.Escalated)
	}
	if !at49.Escalated || at49.Status != certdesk.StatusAwaitingAgent {
		t.Errorf("at 49 h: %s escalated=%v, want escalated and still awaiting", at49.Status, at49.Escalated)
	}
	if !ans.accepted || res.Resolution != certdesk.MergeMerged {
		t.Fatalf("a decision after the escalation: %+v, result %+v", ans, res)
	}
	want := []string{"opened", "preview", "awaiting_agent", "escalated", "decided", "merged", "completed"}
	if got := e.events(in.CaseID); !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	ms := e.mails("sam.supervisor@certdesk.example")
	if len(ms) != 1 || ms[0].Kind != mail.CaseEscalated || ms[0].CaseID != in.CaseID {
		t.Errorf("supervisor's mail: %v", mailKinds(ms))
	}
	if len(e.mails("alice.agent@certdesk.example")) != 0 {
		t.Error("an agent got the supervisors' escalation")
	}
}

// Legal names are compared after normalization; names that still differ are
// flagged for the agent.
func TestMergeFlagsNamesThatDiffer(t *testing.T) {
	tests := []struct {
		name  string
		match bool
	}{
		{"  CHÉN   wei ", true},
		{"Chen-Wei", true},
		{"Chen Wong", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			other := certdesk.CertificationProfile{MCID: "100099", LegalName: tc.name, Email: chenEmail, CreatedAt: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}
			if err := e.store.CreateCertificationProfile(context.Background(), &other); err != nil {
				t.Fatal(err)
			}
			in := chenMerge()
			in.ProfileIDs = []string{chenNew, other.ID}
			var d certdesk.MergeDetails
			e.RegisterDelayedCallback(func() { d = e.mergeDetails(in.CaseID) }, time.Hour)
			e.decideAt(2*time.Hour, "", reject(alice, "checked"))
			e.ExecuteWorkflow(workflows.Merge, in)
			e.mergeResult()

			flagged := slices.Contains(e.events(in.CaseID), "names_mismatch")
			if d.NamesMatch != tc.match || flagged == tc.match {
				t.Errorf("%q vs Chen Wei: names_match %v, flagged %v; want match %v", tc.name, d.NamesMatch, flagged, tc.match)
			}
			if d.TargetID != chenNew {
				t.Errorf("target %s, want the older profile 100003", d.TargetMCID)
			}
		})
	}
}

// mergeParent stands in for the connect workflow: it runs a merge as its
// child and answers the child's result.
func mergeParent(ctx workflow.Context, childID string, in workflows.MergeInput) (workflows.MergeResult, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: childID})
	var res workflows.MergeResult
	err := workflow.ExecuteChildWorkflow(ctx, workflows.Merge, in).Get(ctx, &res)
	return res, err
}

// A connect case that found duplicates runs the merge as its child; the
// child opens its own case and answers the survivor.
func TestMergeAsChildOfConnect(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.RegisterWorkflow(mergeParent)
	ctx := context.Background()
	parent := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: chenActor, WorkflowID: workflows.ConnectWorkflowID(chenLP)}
	if _, err := e.store.OpenCase(ctx, &parent, store.Event{Actor: chenActor, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	childID := "merge-child-" + parent.ID
	in := workflows.MergeInput{ProfileIDs: []string{chenNew, chenOld}, RequestedBy: chenActor, ParentCaseID: parent.ID,
		LearningProfileID: chenLP, AccountID: chenAcct, AgentSLA: workflows.Duration(48 * time.Hour)}
	ans := e.decideAt(time.Hour, childID, approve(alice))
	e.ExecuteWorkflow(mergeParent, childID, in)

	res := e.mergeResult()
	if !ans.accepted || res.Status != certdesk.StatusCompleted || res.SurvivorID != chenOld || res.CaseID == "" {
		t.Fatalf("child's result %+v (accepted %v)", res, ans.accepted)
	}
	cases, err := e.store.CasesOfWorkflow(ctx, childID)
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases of the child workflow: %v %v", cases, err)
	}
	cs := cases[0]
	if cs.ID != res.CaseID || cs.ParentCaseID == nil || *cs.ParentCaseID != parent.ID || cs.Kind != certdesk.KindMerge || cs.Status != certdesk.StatusCompleted {
		t.Errorf("child case %+v", cs)
	}
	if e.profile(chenNew).Status != certdesk.ProfileMerged {
		t.Error("the child's approval did not merge")
	}
}

// What changed while the case waited is found by the workflow: the case
// ends rejected with the reason, or completed when another case did the
// same merge, and nothing changes twice.
func TestMergeRefusedByTheWorkflow(t *testing.T) {
	ctx := context.Background()
	t.Run("a profile merged before the case started", func(t *testing.T) {
		e := newEnv(t, "sqlite")
		other := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "other"}
		if _, err := e.store.OpenCase(ctx, &other, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.MergeProfiles(ctx, store.MergeRequest{CaseID: other.ID, WorkflowStep: 2, TargetID: chenOld, SourceIDs: []string{chenNew}}); err != nil {
			t.Fatal(err)
		}
		in := chenMerge()
		e.ExecuteWorkflow(workflows.Merge, in)
		res := e.mergeResult()
		if res.Status != certdesk.StatusRejected || res.Resolution != certdesk.MergeNotMergeable || !strings.Contains(res.Reason, "MCID 100003 is already merged") {
			t.Fatalf("result %+v", res)
		}
		if got := e.events(in.CaseID); !slices.Equal(got, []string{"opened", "rejected"}) {
			t.Errorf("timeline %v", got)
		}
	})
	t.Run("a profile connected while the case waited", func(t *testing.T) {
		e := newEnv(t, "sqlite")
		in := chenMerge()
		e.RegisterDelayedCallback(func() {
			if err := e.store.SetConnectedLearningProfile(ctx, chenNew, chenLP); err != nil {
				t.Error(err)
			}
		}, 30*time.Minute)
		e.decideAt(time.Hour, "", approve(alice))
		e.ExecuteWorkflow(workflows.Merge, in)
		res := e.mergeResult()
		if res.Status != certdesk.StatusRejected || res.Resolution != certdesk.MergeNotMergeable || !strings.Contains(res.Reason, "can only be merged into it") {
			t.Fatalf("result %+v", res)
		}
		if p := e.profile(chenOld); p.Status != certdesk.ProfileActive {
			t.Errorf("the refused merge changed the target: %+v", p)
		}
		if ms := e.mails(chenEmail); len(ms) != 1 || ms[0].Kind != mail.MergeRejected || !strings.Contains(ms[0].Text, "can no longer be merged") {
			t.Errorf("mail to Chen: %v", mailKinds(ms))
		}
	})
	t.Run("the same merge done by another case meanwhile", func(t *testing.T) {
		e := newEnv(t, "sqlite")
		in := chenMerge()
		e.RegisterDelayedCallback(func() {
			other := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "other"}
			if _, err := e.store.OpenCase(ctx, &other, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Error(err)
			}
			if _, err := e.store.MergeProfiles(ctx, store.MergeRequest{CaseID: other.ID, WorkflowStep: 2, TargetID: chenOld, SourceIDs: []string{chenNew}}); err != nil {
				t.Error(err)
			}
		}, 30*time.Minute)
		e.decideAt(time.Hour, "", approve(alice))
		e.ExecuteWorkflow(workflows.Merge, in)
		res := e.mergeResult()
		if res.Status != certdesk.StatusCompleted || res.Resolution != certdesk.MergeAlreadyMerged || res.SurvivorID != chenOld {
			t.Fatalf("result %+v", res)
		}
		if ms := e.mails(chenEmail); len(ms) != 0 {
			t.Errorf("mail for a merge this case did not do: %v", mailKinds(ms))
		}
	})
}
