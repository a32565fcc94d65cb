package desk

import (
	"context"

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
	cs, err := s.startOrJoin(ctx, l.Account.Email, in.CaseID, workflows.ConnectWorkflowID(in.LearningProfileID), workflows.Connect, in, certdesk.KindConnect)
	return cs, err == nil && cs.ID == in.CaseID, err
}
