package workflows_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/workflows"
)

// A case whose workflow fails for a reason nobody planned for is never
// lost: it shows failed with the reason on its timeline (opened first when
// its projection was never written), and every supervisor is emailed.
func TestAFailingWorkflowLeavesAVisibleFailedCase(t *testing.T) {
	broken := temporal.NewNonRetryableApplicationError("the disk is on fire", "internal", nil)
	tests := []struct {
		name  string
		kind  certdesk.Kind
		setup func(e *env)
		run   func(e *env, id string)
	}{
		{name: "connect: the lookup fails", kind: certdesk.KindConnect,
			setup: func(e *env) {
				e.OnActivity("LookupConnect", mock.Anything, mock.Anything).Return(activities.ConnectLookup{}, broken)
			},
			run: func(e *env, id string) {
				e.ExecuteWorkflow(workflows.Connect, workflows.ConnectInput{CaseID: id, LearningProfileID: ana.lp, AccountID: ana.account})
			}},
		{name: "recovery: its projection cannot be written", kind: certdesk.KindRecovery,
			setup: func(e *env) { e.OnActivity("OpenCase", mock.Anything, mock.Anything).Return(certdesk.Case{}, broken) },
			run: func(e *env, id string) {
				e.ExecuteWorkflow(workflows.Recovery, workflows.RecoveryInput{CaseID: id, Claim: daraClaim, VerifyTTL: workflows.Duration(hour)})
			}},
		{name: "merge: its preview cannot be written", kind: certdesk.KindMerge,
			setup: func(e *env) {
				e.OnActivity("ChangeCase", mock.Anything, mock.Anything).Return(certdesk.Case{}, broken).Once()
			},
			run: func(e *env, id string) {
				e.ExecuteWorkflow(workflows.Merge, workflows.MergeInput{CaseID: id, ProfileIDs: []string{profileID("100003"), profileID("100004")},
					RequestedBy: certdesk.AgentActor(alice)})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			tc.setup(e)
			id := certdesk.NewID()
			tc.run(e, id)
			if !e.IsWorkflowCompleted() || e.GetWorkflowError() == nil {
				t.Fatalf("the workflow did not fail: %v", e.GetWorkflowError())
			}
			c, err := e.store.Case(context.Background(), id)
			if err != nil {
				t.Fatalf("the failed case is not in the store: %v", err)
			}
			if c.Kind != tc.kind || c.Status != certdesk.StatusFailed || c.Resolution != certdesk.ResolutionWorkflowFailed || c.ClosedAt == nil {
				t.Errorf("case %s %s/%s, want %s failed/workflow_failed", c.Kind, c.Status, c.Resolution, tc.kind)
			}
			evs, _ := e.store.Events(context.Background(), id, 0, 0)
			last := evs[len(evs)-1]
			if last.Type != "failed" || !strings.Contains(string(last.Data), "workflow failed") {
				t.Errorf("the timeline ends %s %s", last.Type, last.Data)
			}
			if got := kindsOf(e.mails("sam.supervisor@certdesk.example")); !slices.Contains(got, mail.CaseFailed) {
				t.Errorf("the supervisor got %q, want case_failed", got)
			}
		})
	}
}
