package workflows

import (
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// UnmergeWorkflowID is the id of the workflow that undoes a merge case:
// one per merge, so a repeated request joins the undo already open.
func UnmergeWorkflowID(mergeCaseID string) string { return "unmerge-" + mergeCaseID }

// UnmergeInput starts an unmerge case.
type UnmergeInput struct {
	CaseID      string
	MergeCaseID string
	// Note is the requester's reason.
	Note        string
	RequestedBy certdesk.Actor
	// Window is how long after a merge it can be undone; zero is
	// certdesk.DefaultUnmergeWindow.
	Window Duration
	// AgentSLA is the time an approver has before the case is escalated;
	// zero is certdesk.DefaultAgentSLA.
	AgentSLA Duration
}

// UnmergeResult is how an unmerge case ended.
type UnmergeResult struct {
	Status     certdesk.Status
	Resolution string
	CaseID     string
	Reason     string `json:",omitempty"`
}

// Unmerge undoes a completed merge once another staff member approves:
// the sources are active again with exactly what they had, and every
// profile's owner is told. See docs/design.md, "Unmerge".
func Unmerge(ctx workflow.Context, in UnmergeInput) (_ UnmergeResult, err error) {
	if in.AgentSLA <= 0 {
		in.AgentSLA = Duration(certdesk.DefaultAgentSLA)
	}
	if in.Window <= 0 {
		in.Window = Duration(certdesk.DefaultUnmergeWindow)
	}
	u := &unmergeRun{in: in, run: newCase(in.CaseID)}
	defer u.run.settle(ctx)
	defer u.run.failVisibly(ctx, certdesk.KindUnmerge, func() certdesk.Case { return UnmergeCase(in, certdesk.UnmergeReview{}) }, &err)
	if err := u.run.serve(ctx); err != nil {
		return UnmergeResult{}, err
	}
	desk, err := newAgentDesk(ctx, u.run, certdesk.KindUnmerge, in.AgentSLA.D(), u.fourEyes)
	if err != nil {
		return UnmergeResult{}, err
	}

	var r certdesk.UnmergeReview
	err = workflow.ExecuteActivity(storeActivity(ctx), acts.ReviewUnmerge,
		activities.ReviewUnmergeInput{MergeCaseID: in.MergeCaseID, Window: in.Window.D()}).Get(ctx, &r)
	_, reason, refused := refusal(err)
	if err != nil && !refused {
		return UnmergeResult{}, err
	}
	if _, err := u.run.open(ctx, UnmergeCase(in, r), in.RequestedBy, map[string]any{"merge_case_id": in.MergeCaseID, "note": in.Note}); err != nil {
		return UnmergeResult{}, err
	}
	if refused {
		return u.end(ctx, certdesk.StatusRejected, certdesk.UnmergeNotUndoable, certdesk.ActorSystem, map[string]any{"reason": reason})
	}
	u.review = r
	u.review.Details.Note = in.Note
	subject := certdesk.UnmergeSubject(r.Details)
	if _, err := u.run.change(ctx, activities.ChangeCaseInput{Details: mustJSON(u.review.Details), Event: certdesk.EventPreview,
		Data: mustJSON(map[string]any{"merge_case_id": in.MergeCaseID, "restoring": len(r.Details.Profiles) - 1, "uncollapsing": r.Details.Uncollapsed})}); err != nil {
		return UnmergeResult{}, err
	}

	dec, err := desk.await(ctx, subject)
	if err != nil {
		return UnmergeResult{}, err
	}
	ctx = desk.traced(ctx)
	agent := certdesk.AgentActor(dec.AgentID)
	if err := desk.decided(ctx, dec, nil); err != nil {
		return UnmergeResult{}, err
	}
	if dec.Decision == certdesk.DecisionReject {
		return u.end(ctx, certdesk.StatusRejected, certdesk.UnmergeRejectedByAgent, agent, map[string]any{"note": dec.Note})
	}
	return u.unmerge(ctx, agent)
}

// unmergeRun is an unmerge workflow's state.
type unmergeRun struct {
	in     UnmergeInput
	run    *caseRun
	review certdesk.UnmergeReview
}

// fourEyes refuses the approval of an undo by the supervisor who asked.
func (u *unmergeRun) fourEyes(in DecisionInput) error {
	return certdesk.UnmergeFourEyes(u.in.RequestedBy, in.AgentID, in.Decision)
}

// unmerge runs the approved undo, closes the case, then tells every
// profile's owner.
func (u *unmergeRun) unmerge(ctx workflow.Context, agent certdesk.Actor) (UnmergeResult, error) {
	u.run.step++
	var out certdesk.UnmergeCounts
	err := workflow.ExecuteActivity(activityOptions(ctx), acts.UnmergeProfiles, activities.UnmergeProfilesInput{
		CaseID: u.run.ID, Step: u.run.step, Actor: agent, MergeCaseID: u.in.MergeCaseID, Window: u.in.Window.D(),
	}).Get(ctx, &out)
	if _, reason, refused := refusal(err); refused {
		return u.end(ctx, certdesk.StatusRejected, certdesk.UnmergeNotUndoable, certdesk.ActorSystem,
			map[string]any{"reason": "the profiles changed while the undo waited: " + reason})
	} else if err != nil {
		return UnmergeResult{}, err
	}
	d := &u.review.Details
	d.Result = &out
	var restored []string
	for _, p := range d.Profiles {
		if !p.Target {
			restored = append(restored, p.MCID)
		}
	}
	var emailed []string
	for _, o := range u.review.Owners {
		emailed = append(emailed, o.Email)
	}
	res, err := u.end(ctx, certdesk.StatusCompleted, certdesk.UnmergeUnmerged, certdesk.ActorSystem, map[string]any{
		"target_mcid": d.TargetMCID, "restored_mcids": restored, "certifications_returned": out.CertificationsReturned,
		"transcript_returned": out.TranscriptReturned, "uncollapsed": out.Uncollapsed, "emailed": emailed,
	})
	if err != nil {
		return res, err
	}
	for i, o := range u.review.Owners {
		err := u.run.email(ctx, activities.SendEmailInput{Step: "undone-" + strconv.Itoa(i), Kind: mail.MergeUndone, To: o.Email, ToName: o.Name,
			Data: map[string]any{"mcid": o.MCID, "target_mcid": d.TargetMCID, "restored_mcids": strings.Join(restored, ", ")}})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// end closes the case with its resolution.
func (u *unmergeRun) end(ctx workflow.Context, status certdesk.Status, resolution string, actor certdesk.Actor, data map[string]any) (UnmergeResult, error) {
	data["resolution"] = resolution
	ch := activities.ChangeCaseInput{Status: status, Resolution: resolution, ClearSLA: true, Actor: actor,
		Event: certdesk.EventType(status), Data: mustJSON(data)}
	if u.review.Details.MergeCaseID != "" {
		ch.Details = mustJSON(u.review.Details)
	}
	if _, err := u.run.change(ctx, ch); err != nil {
		return UnmergeResult{}, err
	}
	res := UnmergeResult{Status: status, Resolution: resolution, CaseID: u.run.ID}
	if r, ok := data["reason"].(string); ok {
		res.Reason = r
	} else if n, ok := data["note"].(string); ok {
		res.Reason = n
	}
	return res, nil
}

// UnmergeCase is the projection an unmerge case opens with. r is the
// store's review (zero when the undo was refused).
func UnmergeCase(in UnmergeInput, r certdesk.UnmergeReview) certdesk.Case {
	parent := in.MergeCaseID
	cs := certdesk.Case{
		ID: in.CaseID, Kind: certdesk.KindUnmerge, Status: certdesk.StatusOpen, Requester: in.RequestedBy,
		ParentCaseID: &parent, Subject: "undo of merge case " + in.MergeCaseID,
		Details: mustJSON(certdesk.UnmergeDetails{MergeCaseID: in.MergeCaseID, Note: in.Note}),
	}
	if r.Details.MergeCaseID != "" {
		d := r.Details
		d.Note = in.Note
		cs.Details, cs.Subject = mustJSON(d), certdesk.UnmergeSubject(d)
		cs.ProfileIDs, cs.MCIDs = r.ProfileIDs, r.MCIDs
		if len(d.Profiles) > 0 {
			cs.LearnerName = d.Profiles[0].LegalName
		}
		if len(r.Owners) > 0 {
			cs.LearnerEmail = r.Owners[0].Email
		}
		if r.LearningProfileID != "" {
			cs.LearningProfileID = &r.LearningProfileID
		}
		if r.AccountID != "" {
			cs.AccountID = &r.AccountID
		}
	}
	return cs
}
