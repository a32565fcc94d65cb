package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// connectRequest is the body of POST /api/v1/connect-requests: nothing yet
// (the learner is the caller), so an empty body or {}.
type connectRequest struct{}

// requestConnect opens a connect case for the calling learner: 202 with the
// new case, or 200 with the case already open for their learning profile.
func (s *Server) requestConnect(c *gin.Context) {
	var req connectRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
	}
	cs, opened, err := s.openConnect(c.Request.Context(), caller(c))
	if err != nil {
		fail(c, err)
		return
	}
	code := http.StatusOK
	if opened {
		code = http.StatusAccepted
	}
	c.JSON(code, toCaseJSON(cs))
}

// memoCaseID is the memo key naming the case a workflow run is.
const memoCaseID = "case_id"

// openConnect starts the learner's connect workflow, or finds the one
// running. The guard against two open cases is Temporal's: one running
// workflow per id (use-existing), so two requests at once get one case.
func (s *Server) openConnect(ctx context.Context, p *Principal) (certdesk.Case, bool, error) {
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		return certdesk.Case{}, false, err
	}
	if l.LearningProfile == nil {
		return certdesk.Case{}, false, certdesk.Errorf(certdesk.ECONFLICT,
			"%s has no learning profile: sign in to the learning site with it once (or add it to your learning profile), then ask to connect", l.Account.Email)
	}
	if s.temporal == nil {
		return certdesk.Case{}, false, certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured")
	}
	lpID := l.LearningProfile.ID
	in := workflows.ConnectInput{CaseID: certdesk.NewID(), LearningProfileID: lpID, AccountID: l.Account.ID,
		LearnerWait: workflows.Duration(s.cfg.LearnerWait), AgentSLA: workflows.Duration(s.cfg.AgentSLA)}
	run, existing, err := s.startConnect(ctx, in)
	if err != nil || existing.ID != "" {
		return existing, false, err
	}
	name := l.Account.DisplayName
	if name == "" {
		name = l.LearningProfile.DisplayName
	}
	actor := certdesk.LearnerActor(l.Account.ID)
	cs := certdesk.Case{
		ID: in.CaseID, Kind: certdesk.KindConnect, Subject: certdesk.ConnectSubject(name),
		LearnerName: name, LearnerEmail: l.Account.Email, LearningProfileID: &lpID, AccountID: &in.AccountID,
		Requester: actor, WorkflowID: run.GetID(), RunID: run.GetRunID(),
	}
	// The workflow writes the same projection if it gets there first; then
	// this one changes nothing and returns the case as it is.
	if _, err := s.store.OpenCase(ctx, &cs, store.Event{Actor: actor, Type: "opened",
		Data: map[string]any{"learning_profile_id": lpID, "account_id": in.AccountID}}); err != nil {
		// The case is running; its workflow writes the same row as its
		// first step. Answering an error would invite a second request.
		slog.WarnContext(ctx, "connect case projection", "case", cs.ID, "err", err)
	}
	return cs, true, nil
}

// startConnect starts the learning profile's connect workflow with a new
// case, or finds the run that is open and returns its case. A run whose
// case has just ended (it is sending its last email) is waited for briefly,
// so asking again after the end opens a new case. The existing case is the
// zero Case when the run is new.
func (s *Server) startConnect(ctx context.Context, in workflows.ConnectInput) (client.WorkflowRun, certdesk.Case, error) {
	opts := client.StartWorkflowOptions{
		ID:                       workflows.ConnectWorkflowID(in.LearningProfileID),
		TaskQueue:                s.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{memoCaseID: in.CaseID},
	}
	for attempt := 0; ; attempt++ {
		run, err := s.temporal.ExecuteWorkflow(ctx, opts, workflows.Connect, in)
		if err != nil {
			return nil, certdesk.Case{}, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not start the connect case", Err: err}
		}
		caseID, err := s.runCaseID(ctx, run)
		if err != nil || caseID == in.CaseID {
			return run, certdesk.Case{}, err
		}
		// The learner's case already open: it is there, or about to be.
		cs, ok := s.awaitCase(ctx, caseID, 0, 5*time.Second)
		if !ok {
			return nil, certdesk.Case{}, certdesk.Errorf(certdesk.EUNAVAILABLE, "your connect case is being opened; ask again in a moment")
		}
		if !cs.Status.Terminal() || attempt > 0 {
			return run, cs, nil
		}
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.temporal.GetWorkflow(wait, run.GetID(), run.GetRunID()).Get(wait, nil) // its outcome is on the case
		cancel()
	}
}

// runCaseID reads which case a workflow run is, from its memo.
func (s *Server) runCaseID(ctx context.Context, run client.WorkflowRun) (string, error) {
	d, err := s.temporal.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return "", &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not read the connect case's workflow", Err: err}
	}
	var id string
	if p := d.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoCaseID]; p != nil {
		if err := s.dataConverter().FromPayload(p, &id); err != nil {
			return "", err
		}
	}
	if id != "" {
		return id, nil
	}
	// A run started without the memo: its projection names it.
	cases, err := s.store.CasesOfWorkflow(ctx, run.GetID())
	if err != nil {
		return "", err
	}
	for _, cs := range cases {
		if cs.RunID == run.GetRunID() {
			return cs.ID, nil
		}
	}
	return "", certdesk.Errorf(certdesk.EUNAVAILABLE, "your connect case is being opened; ask again in a moment")
}
