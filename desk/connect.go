package desk

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// openConnect starts the learner's connect workflow, or joins the one
// running, and answers its case as the workflow has it. The guard against
// two open cases is Temporal's: one running workflow per id (use-existing),
// so two requests at once get one case. A run whose case has just ended
// (it is sending its last email) is waited for briefly, so asking again
// after the end opens a new case.
func (s *Desk) OpenConnect(ctx context.Context, p *certdesk.Principal) (certdesk.Case, bool, error) {
	return s.openConnect(ctx, p.AccountID, "")
}

// openConnect opens (or joins) the connect case of an account's learning
// profile; parentID names the inquiry an agent turned into it.
func (s *Desk) openConnect(ctx context.Context, accountID, parentID string) (certdesk.Case, bool, error) {
	l, err := s.store.Learner(ctx, accountID)
	if err != nil {
		return certdesk.Case{}, false, err
	}
	if l.LearningProfile == nil {
		return certdesk.Case{}, false, certdesk.Errorf(certdesk.ECONFLICT,
			"%s has no learning profile: sign in to the learning site with it once (or add it to your learning profile), then ask to connect", l.Account.Email)
	}
	in := workflows.ConnectInput{CaseID: certdesk.NewID(), LearningProfileID: l.LearningProfile.ID, AccountID: l.Account.ID,
		LearnerWait: workflows.Duration(s.cfg.LearnerWait), AgentSLA: workflows.Duration(s.cfg.AgentSLA), ParentCaseID: parentID,
		Language: s.learnerLanguage(ctx, l.LearningProfile.ID)}
	id := workflows.ConnectWorkflowID(in.LearningProfileID)
	for attempt := 0; ; attempt++ {
		cs, err := s.startCase(ctx, l.Account.Email, in.CaseID, id, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, workflows.Connect, in, certdesk.KindConnect)
		if err != nil || cs.ID == in.CaseID {
			return cs, err == nil, err
		}
		// The learner's case already open: that is the answer.
		if !cs.Status.Terminal() || attempt > 0 {
			return cs, false, nil
		}
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.temporal.GetWorkflow(wait, id, "").Get(wait, nil) // its outcome is on the case
		cancel()
	}
}
