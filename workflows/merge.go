package workflows

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// MergeWorkflowID is the id of the workflow of a connect case's merge.
func MergeWorkflowID(caseID string) string { return "merge-" + caseID }

// MergeRequestWorkflowID is the id of the workflow of a merge someone asked
// for: one per set of profiles (in any order) at a time, so a request sent
// again — its answer lost — joins the case the first one opened instead of
// opening a second.
func MergeRequestWorkflowID(profileIDs []string) string {
	ids := slices.Clone(profileIDs)
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(slices.Compact(ids), " ")))
	return "merge-profiles-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// MergeInput starts a merge case.
type MergeInput struct {
	// CaseID is the case's id; empty (a child started by a connect case)
	// makes the workflow choose one.
	CaseID     string
	ProfileIDs []string
	// TargetID is the profile to merge into; empty lets the case choose
	// (the connected profile when there is one, else the oldest).
	TargetID    string
	Note        string
	RequestedBy certdesk.Actor
	// ParentCaseID is set when a connect case runs the merge as its child.
	ParentCaseID string
	// Owners are the personal accounts of the connect case's learning
	// profile: the target is one of their profiles when it can be.
	Owners            []string
	LearningProfileID string
	AccountID         string
	// AgentSLA is the time an agent has to decide before the case is
	// escalated; zero is certdesk.DefaultAgentSLA.
	AgentSLA Duration
	// Language is the learner's language for the case's emails to them
	// (i18n: "es", "pt-BR", …); "" is English, as for every case opened
	// before it was carried.
	Language string `json:",omitempty"`
}

// MergeResult is how a merge case ended.
type MergeResult struct {
	Status     certdesk.Status // completed or rejected
	Resolution string
	// SurvivorID is the profile the others were merged into (completed).
	SurvivorID string
	CaseID     string
	// Reason says why a rejected merge did not happen.
	Reason string
}

// Merge folds duplicate certification profiles into one, with an agent's
// approval. See docs/design.md, "Merge".
func Merge(ctx workflow.Context, in MergeInput) (_ MergeResult, err error) {
	if in.CaseID == "" {
		if err := workflow.SideEffect(ctx, func(workflow.Context) any { return certdesk.NewID() }).Get(&in.CaseID); err != nil {
			return MergeResult{}, err
		}
	}
	if in.AgentSLA <= 0 {
		in.AgentSLA = Duration(certdesk.DefaultAgentSLA)
	}
	m := &mergeRun{in: in, run: newCase(in.CaseID)}
	m.run.lang = in.Language
	var r certdesk.MergeReview
	defer m.run.settle(ctx)
	defer m.run.failVisibly(ctx, certdesk.KindMerge, func() certdesk.Case { cs, _ := MergeCase(in, r); return cs }, &err)
	if err := m.run.serve(ctx); err != nil {
		return MergeResult{}, err
	}
	desk, err := newAgentDesk(ctx, m.run, certdesk.KindMerge, in.AgentSLA.D(), m.fourEyes)
	if err != nil {
		return MergeResult{}, err
	}

	// The request is checked again: the API checked it, but the profiles
	// may have changed since (and a connect case's child is checked here
	// only).
	err = workflow.ExecuteActivity(storeActivity(ctx), acts.ReviewMerge,
		activities.ReviewMergeInput{ProfileIDs: in.ProfileIDs, TargetID: in.TargetID, Owners: in.Owners}).Get(ctx, &r)
	_, reason, refused := refusal(err)
	if err != nil && !refused {
		return MergeResult{}, err
	}
	cs, opened := MergeCase(in, r)
	if _, err := m.run.open(ctx, cs, in.RequestedBy, opened); err != nil {
		return MergeResult{}, err
	}
	if refused {
		return m.end(ctx, certdesk.StatusRejected, certdesk.MergeNotMergeable, certdesk.ActorSystem, map[string]any{"reason": reason})
	}

	m.details = r.Details
	m.details.Note = in.Note
	subject := certdesk.MergeSubject(m.details, r.LearnerName)
	m.learner, m.learnerName = r.LearnerEmail, r.LearnerName
	if err := m.preview(ctx, subject); err != nil {
		return MergeResult{}, err
	}

	dec, err := desk.await(ctx, subject)
	if err != nil {
		return MergeResult{}, err
	}
	ctx = desk.traced(ctx)
	agent := certdesk.AgentActor(dec.AgentID)
	if dec.Decision == certdesk.DecisionReject {
		if err := desk.decided(ctx, dec, nil); err != nil {
			return MergeResult{}, err
		}
		return m.finish(ctx, certdesk.StatusRejected, certdesk.MergeRejectedByAgent, agent, map[string]any{"note": dec.Note, "emailed": m.learner},
			"rejected", mail.MergeRejected, map[string]any{"note": dec.Note})
	}
	if err := desk.decided(ctx, dec, map[string]any{"target_id": m.details.TargetID, "target_mcid": m.details.TargetMCID}); err != nil {
		return MergeResult{}, err
	}
	return m.merge(ctx, agent)
}

// mergeRun is a merge workflow's state.
type mergeRun struct {
	in  MergeInput
	run *caseRun
	// details is the preview the agent decides on.
	details     certdesk.MergeDetails
	learner     string // the address the outcome goes to
	learnerName string
}

// fourEyes refuses the approval of a merge by the agent who requested it.
func (m *mergeRun) fourEyes(in DecisionInput) error {
	return certdesk.MergeFourEyes(m.in.RequestedBy, in.AgentID, in.Decision)
}

// preview shows the agent what approving moves, and flags names that
// differ.
func (m *mergeRun) preview(ctx workflow.Context, subject string) error {
	d := m.details
	_, err := m.run.change(ctx, activities.ChangeCaseInput{Details: mustJSON(d), Subject: subject, Event: certdesk.EventPreview,
		Data: mustJSON(map[string]any{
			"target_id": d.TargetID, "target_mcid": d.TargetMCID, "target_reason": d.TargetReason, "names_match": d.NamesMatch,
			"certifications_moving": d.Preview.CertificationsMoved, "transcript_moving": d.Preview.TranscriptMoved,
			"duplicates_collapsing": d.Preview.DuplicatesCollapsed,
		})})
	if err != nil || d.NamesMatch {
		return err
	}
	names := make([]string, len(d.Profiles))
	for i, p := range d.Profiles {
		names[i] = p.MCID + ": " + p.LegalName
	}
	return m.run.event(ctx, certdesk.ActorSystem, certdesk.EventNamesMismatch, map[string]any{
		"names": names, "message": "the legal names differ: check the profiles belong to one person before approving"})
}

// merge runs the approved merge, tells the learner and closes the case.
func (m *mergeRun) merge(ctx workflow.Context, agent certdesk.Actor) (MergeResult, error) {
	d := m.details
	var sources, mcids []string
	for _, p := range d.Profiles {
		if !p.Target {
			sources, mcids = append(sources, p.ID), append(mcids, p.MCID)
		}
	}
	// The merge's transaction also appends the case's "merged" event, as
	// this step: a retry finds the step applied and answers its counts.
	m.run.step++
	var out certdesk.MergeOutcome
	err := workflow.ExecuteActivity(activityOptions(ctx), acts.MergeProfiles, activities.MergeProfilesInput{
		CaseID: m.run.ID, Step: m.run.step, Actor: agent, TargetID: d.TargetID, SourceIDs: sources,
	}).Get(ctx, &out)
	if _, reason, refused := refusal(err); refused {
		note := "The profiles changed while the request waited, and can no longer be merged as asked: " + reason
		return m.finish(ctx, certdesk.StatusRejected, certdesk.MergeNotMergeable, certdesk.ActorSystem, map[string]any{"reason": reason, "emailed": m.learner},
			"rejected", mail.MergeRejected, map[string]any{"note": note})
	} else if err != nil {
		return MergeResult{}, err
	}
	if out.AlreadyMerged {
		return m.end(ctx, certdesk.StatusCompleted, certdesk.MergeAlreadyMerged, certdesk.ActorSystem,
			map[string]any{"reason": "the profiles were already merged into MCID " + d.TargetMCID + " by another case"})
	}
	m.details.Result = &out.MergeCounts
	return m.finish(ctx, certdesk.StatusCompleted, certdesk.MergeMerged, certdesk.ActorSystem, map[string]any{
		"target_mcid": d.TargetMCID, "merged_mcids": mcids, "certifications_moved": out.CertificationsMoved,
		"transcript_moved": out.TranscriptMoved, "duplicates_collapsed": out.DuplicatesCollapsed, "emailed": m.learner,
	}, "completed", mail.MergeCompleted, map[string]any{
		"target_mcid": d.TargetMCID, "merged_mcids": strings.Join(mcids, ", "),
		"certifications_moved": out.CertificationsMoved, "transcript_moved": out.TranscriptMoved,
	})
}

// finish closes the case, then emails the learner its outcome, as every
// case does: a slow or failing provider never holds the outcome back.
// Cases started before this change emailed first.
func (m *mergeRun) finish(ctx workflow.Context, status certdesk.Status, resolution string, actor certdesk.Actor, data map[string]any,
	step, kind string, mailData map[string]any) (MergeResult, error) {
	if workflow.GetVersion(ctx, "merge-close-before-mail", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		if err := m.email(ctx, step, kind, mailData); err != nil {
			return MergeResult{}, err
		}
		return m.end(ctx, status, resolution, actor, data)
	}
	res, err := m.end(ctx, status, resolution, actor, data)
	if err != nil {
		return res, err
	}
	return res, m.email(ctx, step, kind, mailData)
}

// email sends the learner one email of the case (none when no address is
// known: the outcome is on the case).
func (m *mergeRun) email(ctx workflow.Context, step, kind string, data map[string]any) error {
	if m.learner == "" {
		return nil
	}
	return m.run.email(ctx, m.run.toLearner(activities.SendEmailInput{Step: step, Kind: kind, To: m.learner, ToName: m.learnerName, Data: data}))
}

// end closes the case with its resolution.
func (m *mergeRun) end(ctx workflow.Context, status certdesk.Status, resolution string, actor certdesk.Actor, data map[string]any) (MergeResult, error) {
	data["resolution"] = resolution
	ch := activities.ChangeCaseInput{Status: status, Resolution: resolution, ClearSLA: true, Actor: actor,
		Event: certdesk.EventType(status), Data: mustJSON(data)}
	if m.details.TargetID != "" {
		ch.Details = mustJSON(m.details)
	}
	if _, err := m.run.change(ctx, ch); err != nil {
		return MergeResult{}, err
	}
	res := MergeResult{Status: status, Resolution: resolution, CaseID: m.run.ID}
	if status == certdesk.StatusCompleted {
		res.SurvivorID = m.details.TargetID
	} else if r, ok := data["reason"].(string); ok {
		res.Reason = r
	} else if n, ok := data["note"].(string); ok {
		res.Reason = n
	}
	return res, nil
}

// MergeCase is the projection a merge case opens with, and the data of its
// "opened" event. The API writes it right after starting the workflow and
// the workflow's first step writes it too: whichever comes first, the row is
// the same. r is the store's review (zero when the request was refused).
func MergeCase(in MergeInput, r certdesk.MergeReview) (certdesk.Case, map[string]any) {
	cs := certdesk.Case{
		ID: in.CaseID, Kind: certdesk.KindMerge, Status: certdesk.StatusOpen, Requester: in.RequestedBy,
		LearnerName: r.LearnerName, LearnerEmail: certdesk.NormalizeEmail(r.LearnerEmail),
		ProfileIDs: slices.Clone(in.ProfileIDs), Details: mustJSON(map[string]any{"note": in.Note}),
		Subject: fmt.Sprintf("merge of %d certification profiles", len(in.ProfileIDs)),
	}
	if r.Details.TargetID != "" {
		d := r.Details
		d.Note = in.Note
		cs.Details, cs.Subject = mustJSON(d), certdesk.MergeSubject(d, r.LearnerName)
		var ids, mcids []string
		for _, p := range d.Profiles {
			ids, mcids = append(ids, p.ID), append(mcids, p.MCID)
		}
		cs.ProfileIDs, cs.MCIDs = ids, mcids
	}
	ptr := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	lp, acct := in.LearningProfileID, in.AccountID
	if lp == "" && acct == "" {
		lp, acct = r.LearningProfileID, r.AccountID
	}
	cs.LearningProfileID, cs.AccountID, cs.ParentCaseID = ptr(lp), ptr(acct), ptr(in.ParentCaseID)
	opened := map[string]any{"profile_ids": in.ProfileIDs, "target_id": in.TargetID, "note": in.Note}
	if in.ParentCaseID != "" {
		opened["parent_case_id"] = in.ParentCaseID
	}
	return cs, opened
}
