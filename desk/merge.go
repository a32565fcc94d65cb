package desk

import (
	"context"
	"slices"
	"strings"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

type MergeRequest struct {
	ProfileIDs []string `json:"profile_ids"`
	// TargetID is the profile to merge into; empty lets the rules choose.
	TargetID string `json:"target_id"`
	Note     string `json:"note"`
}

// validate checks the request's shape and returns its distinct profile ids.
func (r *MergeRequest) validate() ([]string, error) {
	fields := map[string]string{}
	var ids []string
	for _, id := range r.ProfileIDs {
		id = strings.TrimSpace(id)
		if !certdesk.ValidID(id) {
			fields["profile_ids"] = "each must be a certification profile id"
			break
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch {
	case fields["profile_ids"] != "":
	case len(ids) < 2:
		fields["profile_ids"] = "name at least two different certification profiles"
	case len(ids) > certdesk.MaxMergeProfiles:
		fields["profile_ids"] = "name at most 10 profiles"
	}
	r.TargetID = strings.TrimSpace(r.TargetID)
	if r.TargetID != "" && !slices.Contains(ids, r.TargetID) {
		fields["target_id"] = "must be one of profile_ids"
	}
	r.Note = strings.TrimSpace(r.Note)
	if len(r.Note) > 4000 {
		fields["note"] = "must be at most 4000 characters"
	}
	if len(fields) > 0 {
		return nil, certdesk.Invalid(fields)
	}
	return ids, nil
}

// RequestMerge opens a merge case: a learner for their own profiles, an
// agent for anyone's. What the store can tell now (unknown, merged or
// connected profiles, the target) is refused here and starts nothing.
func (s *Desk) RequestMerge(ctx context.Context, p *certdesk.Principal, req MergeRequest) (certdesk.Case, error) {
	ids, err := req.validate()
	if err != nil {
		return certdesk.Case{}, err
	}
	return s.startMerge(ctx, p, workflows.MergeInput{
		ProfileIDs: ids, TargetID: req.TargetID, Note: req.Note, AgentSLA: workflows.Duration(s.cfg.AgentSLA),
	})
}

// startMerge checks the request for the caller and starts the case's
// workflow, which opens the case.
func (s *Desk) startMerge(ctx context.Context, p *certdesk.Principal, in workflows.MergeInput) (certdesk.Case, error) {
	in.RequestedBy = p.Actor()
	if p.Role == certdesk.RoleLearner {
		l, err := s.store.Learner(ctx, p.AccountID)
		if err != nil {
			return certdesk.Case{}, err
		}
		if err := s.learnersOwn(ctx, l, in.ProfileIDs); err != nil {
			return certdesk.Case{}, err
		}
		in.AccountID = p.AccountID
		if l.LearningProfile != nil {
			in.LearningProfileID = l.LearningProfile.ID
		}
	}
	review, err := s.store.ReviewMerge(ctx, in.ProfileIDs, in.TargetID, nil)
	if err != nil {
		return certdesk.Case{}, err
	}
	if in.AccountID == "" {
		in.AccountID, in.LearningProfileID = review.AccountID, review.LearningProfileID
	}
	in.CaseID, in.Language = certdesk.NewID(), s.learnerLanguage(ctx, in.LearningProfileID)
	// The same profiles asked for again while their merge is open: that
	// case is the answer.
	return s.startOrJoin(ctx, review.LearnerEmail, in.CaseID, workflows.MergeRequestWorkflowID(in.ProfileIDs), workflows.Merge, in, certdesk.KindMerge)
}

// learnersOwn refuses profiles that are not the learner's: owned by an
// account of theirs, or registered with one of their accounts' addresses
// (a duplicate made under another sign-in). Someone else's profile gets the
// same answer as one that does not exist.
func (s *Desk) learnersOwn(ctx context.Context, l store.Learner, ids []string) error {
	profiles, err := s.store.CertificationProfiles(ctx, ids)
	if err != nil {
		return err
	}
	mine := func(p certdesk.CertificationProfile) bool {
		for _, a := range l.Accounts {
			if p.OwnerAccountID != nil && *p.OwnerAccountID == a.ID || p.Email == a.Email {
				return true
			}
		}
		return false
	}
	for _, id := range ids {
		i := slices.IndexFunc(profiles, func(p certdesk.CertificationProfile) bool { return p.ID == id })
		if i < 0 || !mine(profiles[i]) {
			return certdesk.Errorf(certdesk.ENOTFOUND, "no certification profile %q", id)
		}
	}
	return nil
}
