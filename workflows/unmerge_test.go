package workflows_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

var sam = store.DemoID("agent:sam.supervisor@certdesk.example")

// mergedChen merges Chen's newer profile into his older one in the store,
// as an approved merge case would, and returns the merge case.
func (e *env) mergedChen() certdesk.Case {
	e.t.Helper()
	ctx := context.Background()
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: chenActor, WorkflowID: "merge-" + certdesk.NewID(),
		ProfileIDs: []string{chenOld, chenNew}}
	if _, err := e.store.OpenCase(ctx, &cs, store.Event{Actor: chenActor, Type: "opened"}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.MergeProfiles(ctx, store.MergeRequest{CaseID: cs.ID, WorkflowStep: 2, Actor: certdesk.AgentActor(alice), TargetID: chenOld, SourceIDs: []string{chenNew}}); err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.store.ChangeCase(ctx, store.Change{CaseID: cs.ID, WorkflowStep: 3, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
		Event: store.Event{Type: "completed"}}); err != nil {
		e.t.Fatal(err)
	}
	return cs
}

func samUndo(mergeID string) workflows.UnmergeInput {
	return workflows.UnmergeInput{CaseID: certdesk.NewID(), MergeCaseID: mergeID, Note: "two people", RequestedBy: certdesk.AgentActor(sam),
		AgentSLA: workflows.Duration(48 * time.Hour)}
}

// Sam cannot approve his own undo; Alice can: the source is active again,
// the case completes as unmerged, and each owner is emailed after it closed.
func TestUnmergeApprovedByAnother(t *testing.T) {
	e := newEnv(t, "sqlite")
	merge := e.mergedChen()
	in := samUndo(merge.ID)
	own := e.decideAt(time.Hour, "", workflows.DecisionInput{Decision: certdesk.DecisionApprove, AgentID: sam, Role: certdesk.RoleSupervisor})
	other := e.decideAt(2*time.Hour, "", approve(alice))
	e.ExecuteWorkflow(workflows.Unmerge, in)

	var res workflows.UnmergeResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if own.refused == nil || !strings.Contains(own.refused.Error(), "four eyes") {
		t.Errorf("Sam approving his own undo: %v", own.refused)
	}
	if !other.accepted || res.Status != certdesk.StatusCompleted || res.Resolution != certdesk.UnmergeUnmerged {
		t.Fatalf("Alice's approval: %+v, result %+v", other, res)
	}
	if p := e.profile(chenNew); p.Status != certdesk.ProfileActive || p.MergedIntoID != nil {
		t.Errorf("the source after the undo: %s into %v", p.Status, p.MergedIntoID)
	}
	if got, want := e.events(in.CaseID), []string{"opened", "preview", "awaiting_agent", "decided", "unmerged", "completed"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	if ms := e.mails(chenEmail); len(ms) == 0 || ms[len(ms)-1].Kind != mail.MergeUndone {
		t.Errorf("Chen's mail: %v", mailKinds(ms))
	}
}

// A rejection changes nothing; an undo that cannot be exact (a merge that
// recorded nothing to undo) ends not_undoable at once, asking no one.
func TestUnmergeRejectedThenNotUndoable(t *testing.T) {
	e := newEnv(t, "sqlite")
	merge := e.mergedChen()
	in := samUndo(merge.ID)
	e.decideAt(time.Hour, "", reject(alice, "they are the same person after all"))
	e.ExecuteWorkflow(workflows.Unmerge, in)
	var res workflows.UnmergeResult
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != certdesk.StatusRejected || res.Resolution != certdesk.UnmergeRejectedByAgent {
		t.Fatalf("rejected: %+v", res)
	}
	if p := e.profile(chenNew); p.Status != certdesk.ProfileMerged {
		t.Errorf("the source after a rejection: %s", p.Status)
	}

	// A merge that recorded nothing to undo (made before snapshots).
	e2 := newEnv(t, "sqlite")
	ctx := context.Background()
	old := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: chenActor, WorkflowID: "merge-old", ProfileIDs: []string{chenOld, chenNew}}
	if _, err := e2.store.OpenCase(ctx, &old, store.Event{Actor: chenActor, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e2.store.ChangeCase(ctx, store.Change{CaseID: old.ID, WorkflowStep: 2, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
		Event: store.Event{Type: "completed"}}); err != nil {
		t.Fatal(err)
	}
	missing := samUndo(old.ID)
	e2.ExecuteWorkflow(workflows.Unmerge, missing)
	if err := e2.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != certdesk.StatusRejected || res.Resolution != certdesk.UnmergeNotUndoable {
		t.Errorf("an undo of no merge: %+v", res)
	}
}
