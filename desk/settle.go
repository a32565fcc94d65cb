package desk

import (
	"context"
	"encoding/json"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// settleWait bounds how long a learner's page waits for the workflow to take
// their move; settlePoll is the first pause between two questions.
const (
	settleWait = 5 * time.Second
	settlePoll = 100 * time.Millisecond
)

// Settled answers a case as its workflow has it once it has taken the move
// made after the version given (an account added, a connect asked for) and
// settled: no longer between steps (open), or waiting on its merge. The
// answer is the workflow's (UpdateCase), not a read of the store, so the
// page that follows shows the case as it is, not as it was a moment ago.
// Past settleWait it answers the latest case it got: the page then keeps
// refreshing until the case settles.
func (s *Desk) Settled(ctx context.Context, cs certdesk.Case) (certdesk.Case, error) {
	if s.temporal == nil {
		return cs, certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	last, pause := cs, settlePoll
	for {
		h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: cs.WorkflowID, RunID: cs.RunID, UpdateName: workflows.UpdateCase,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var now certdesk.Case
		if err == nil {
			err = h.Get(ctx, &now)
		}
		if err != nil {
			return last, err
		}
		if now.Version > 0 {
			last = now
		}
		if last.Version > cs.Version && settled(last) || last.Status.Terminal() {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// settled is whether a case waits on someone (or has ended) rather than
// moving between two steps of its workflow.
func settled(cs certdesk.Case) bool {
	if cs.Status != certdesk.StatusOpen {
		return true
	}
	if cs.Kind == certdesk.KindConnect {
		var d certdesk.ConnectDetails
		return json.Unmarshal(cs.Details, &d) == nil && d.MergeCaseID != ""
	}
	return false
}
