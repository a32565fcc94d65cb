package desk

import (
	"context"
	"errors"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// memoCaseID is the memo key naming the case a workflow run is (the
// Temporal Web UI shows it).
const memoCaseID = "case_id"

// startWait bounds how long a start waits for the workflow to open its case.
const startWait = 10 * time.Second

// startOrJoin starts a case whose workflow id is one per subject matter (a
// learning profile's connect, a set of profiles' merge): while that
// workflow runs, the answer is its case. A run whose case has just ended
// but which is still finishing (its last emails) is waited for, and the new
// case starts after it.
func (s *Desk) startOrJoin(ctx context.Context, subject, caseID, workflowID string, wf, in any, kind certdesk.Kind) (certdesk.Case, error) {
	for attempt := 0; ; attempt++ {
		cs, err := s.startCase(ctx, subject, caseID, workflowID, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, wf, in, kind)
		if err != nil || cs.ID == caseID || !cs.Status.Terminal() || attempt > 0 {
			return cs, err
		}
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.temporal.GetWorkflow(wait, workflowID, "").Get(wait, nil) // its outcome is on the case
		cancel()
	}
}

// startCase starts a case's workflow and answers the case as the workflow
// opened it (subject: the address of the person it is about, whose own key
// seals its history), in one round trip (UpdateWithStartWorkflow with UpdateCase):
// the API writes no projection of its own. conflict says what a workflow
// id already running means: a new case is refused for a fresh id, and a
// connect case joins the one open (USE_EXISTING: the answer is that case).
//
// With no worker up, the workflow still starts (it is durable) but cannot
// answer: the caller then gets the case as the request defined it, and the
// workflow writes it as soon as a worker runs.
func (s *Desk) startCase(ctx context.Context, subject, caseID, workflowID string, conflict enumspb.WorkflowIdConflictPolicy,
	wf any, in any, kind certdesk.Kind) (certdesk.Case, error) {
	if s.temporal == nil {
		return certdesk.Case{}, certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured")
	}
	ctx, err := s.about(ctx, subject)
	if err != nil {
		return certdesk.Case{}, err
	}
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: workflowID, TaskQueue: s.cfg.TaskQueue, WorkflowIDConflictPolicy: conflict,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                  map[string]any{memoCaseID: caseID},
		// Findable with Temporal's tools from its start; the workflow keeps
		// them current (workflows/search.go).
		TypedSearchAttributes: workflows.StartSearchAttributes(caseID, kind),
	}, wf, in)
	wait, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	h, err := s.temporal.UpdateWithStartWorkflow(wait, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: workflows.UpdateCase,
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var cs certdesk.Case
	if err == nil {
		err = h.Get(wait, &cs)
	}
	if err == nil {
		return cs, nil
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return certdesk.Case{}, &certdesk.Error{Code: certdesk.ECONFLICT, Message: "this case exists already", Err: err}
	}
	// Started, but nobody answered in time: the case is durable and opens
	// when a worker takes it.
	check, cancelCheck := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancelCheck()
	if run, serr := start.Get(check); serr == nil && run.GetID() != "" {
		slog.WarnContext(ctx, "case started, not yet opened by a worker", "case", caseID, "workflow", workflowID, "err", err)
		return certdesk.Case{ID: caseID, Kind: kind, Status: certdesk.StatusOpen, WorkflowID: run.GetID(), RunID: run.GetRunID(),
			Details: []byte(`{}`), CreatedAt: s.now(), UpdatedAt: s.now()}, nil
	}
	return certdesk.Case{}, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not start the case; please try again", Err: err}
}
