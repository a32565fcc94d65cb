package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// RecoveryWorkflowID is the id of a recovery case's workflow.
func RecoveryWorkflowID(caseID string) string { return "recovery-" + caseID }

// RecoveryClaim is what the public form asks.
type RecoveryClaim struct {
	LegalName       string
	ContactEmail    string
	MCID            string
	PreviousEmail   string
	NewAccountEmail string
	Description     string
	Exam            string
}

// RecoveryInput starts a recovery case.
type RecoveryInput struct {
	CaseID     string
	Claim      RecoveryClaim
	VerifyTTL  Duration
	AgentSLA   Duration
	CoolingOff Duration
	// LearnerWait bounds the wait for a reply to request_info.
	LearnerWait Duration
	// ParentCaseID is the inquiry an agent turned into this case.
	ParentCaseID string `json:",omitempty"`
	// Language is the learner's language for the case's emails to them
	// (i18n: "es", "pt-BR", …); "" is English, as for every case opened
	// before it was carried.
	Language string `json:",omitempty"`
}

// defaults fills in the durations a caller left out, as Connect and Merge
// do.
func (in *RecoveryInput) defaults() {
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&in.VerifyTTL, certdesk.DefaultVerifyTTL}, {&in.AgentSLA, certdesk.DefaultAgentSLA},
		{&in.CoolingOff, certdesk.DefaultCoolingOff}, {&in.LearnerWait, certdesk.DefaultLearnerWait}} {
		if *d.v <= 0 {
			*d.v = Duration(d.def)
		}
	}
}

// RecoveryResult is how a recovery case ended.
type RecoveryResult struct {
	Status     certdesk.Status
	Resolution string
	ProfileID  string
}

// RecoveryCase is the projection a recovery case opens with. The API writes
// it as soon as the workflow has started and the workflow's first step
// writes the same, so whichever runs first, the case reads the same.
func RecoveryCase(in RecoveryInput) certdesk.Case {
	claim := certdesk.RecoveryClaim(in.Claim)
	subject := "Recovery · " + claim.LegalName
	var mcids []string
	if claim.MCID != "" {
		subject += " · MCID " + claim.MCID
		mcids = []string{claim.MCID}
	}
	cs := certdesk.Case{
		ID: in.CaseID, Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, Subject: subject,
		LearnerName: claim.LegalName, LearnerEmail: claim.ContactEmail, MCIDs: mcids,
		WorkflowID: RecoveryWorkflowID(in.CaseID),
		Details: mustJSON(certdesk.RecoveryDetails{Claim: claim, Candidates: []certdesk.RecoveryCandidate{},
			InfoRequests: []certdesk.InfoRequest{}}),
	}
	if in.ParentCaseID != "" {
		parent := in.ParentCaseID
		cs.ParentCaseID = &parent
	}
	return cs
}

// RecoveryOpenedData is the data of a recovery case's "opened" event.
var RecoveryOpenedData = map[string]string{"via": "recovery form"}

// timeFormat is how times read in emails.
const timeFormat = "Mon 2 Jan 2006, 15:04 MST"

// recovery is a recovery case in progress.
type recovery struct {
	in      RecoveryInput
	c       *caseRun
	d       certdesk.RecoveryDetails
	subject string
	// What the email links said, as the signals came (deduplicated by
	// token): the verification, replies not yet on the timeline, a cancel.
	verified  *LinkUsed
	replies   []LinkUsed
	cancelled *LinkUsed
	tokens    map[string]bool
	// approvals counts the agent's approvals: a second one follows a
	// cooling-off whose notices reached nobody.
	approvals int
}

// Recovery re-binds a lost certification profile to a new account, through
// verification, an agent's review and a cooling-off. See docs/design.md, "Recovery".
func Recovery(ctx workflow.Context, in RecoveryInput) (_ RecoveryResult, err error) {
	in.defaults()
	cs := RecoveryCase(in)
	r := &recovery{in: in, c: newCase(in.CaseID), subject: cs.Subject, tokens: map[string]bool{},
		d: certdesk.RecoveryDetails{Claim: certdesk.RecoveryClaim(in.Claim), Candidates: []certdesk.RecoveryCandidate{}, InfoRequests: []certdesk.InfoRequest{}}}
	r.c.lang = in.Language
	defer r.c.settle(ctx)
	defer r.c.failVisibly(ctx, certdesk.KindRecovery, func() certdesk.Case { return RecoveryCase(in) }, &err)
	if err := r.c.serve(ctx); err != nil {
		return RecoveryResult{}, err
	}
	if _, err := r.c.open(ctx, cs, certdesk.ActorPublic, RecoveryOpenedData); err != nil {
		return RecoveryResult{}, err
	}
	r.listen(ctx)
	desk, err := newAgentDesk(ctx, r.c, certdesk.KindRecovery, in.AgentSLA.D(), r.check)
	if err != nil {
		return RecoveryResult{}, err
	}

	verified, err := r.verify(ctx)
	if err != nil {
		return RecoveryResult{}, err
	}
	if !verified {
		return RecoveryResult{Status: certdesk.StatusExpired, Resolution: certdesk.ResolutionUnverified}, nil
	}
	for {
		dec, err := desk.await(ctx, r.subject)
		if err != nil {
			return RecoveryResult{}, err
		}
		dctx := desk.traced(ctx) // the decision's work, in its request's trace
		var data map[string]any
		if dec.Decision == certdesk.DecisionApprove {
			data = map[string]any{"profile_id": dec.ProfileID}
		}
		if err := desk.decided(dctx, dec, data); err != nil {
			return RecoveryResult{}, err
		}
		switch dec.Decision {
		case certdesk.DecisionReject:
			return r.reject(dctx, dec)
		case certdesk.DecisionRequestInfo:
			if err := r.requestInfo(dctx, dec); err != nil {
				return RecoveryResult{}, err
			}
			// Back with the agent: the SLA counts from now, not from
			// before the learner was asked (it escalates once per case).
			desk.restartSLA()
			continue
		}
		res, again, err := r.coolOffAndRebind(dctx, dec)
		if err != nil || !again {
			return res, err
		}
		// No address on file could be warned: the move waits for an
		// agent again, with the SLA counted afresh.
		desk.restartSLA()
	}
}

// listen takes the case's signals as they come: link uses are kept for the
// main flow; bounces are on the case already (flag and timeline).
func (r *recovery) listen(ctx workflow.Context) {
	links := workflow.GetSignalChannel(ctx, SignalLink)
	bounces := workflow.GetSignalChannel(ctx, SignalEmailBounced)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(links, func(ch workflow.ReceiveChannel, _ bool) {
				var l LinkUsed
				ch.Receive(ctx, &l)
				r.onLink(l)
			})
			sel.AddReceive(bounces, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
			sel.Select(ctx)
		}
	})
}

func (r *recovery) onLink(l LinkUsed) {
	if r.tokens[l.TokenID] {
		return // the same link, signalled twice
	}
	r.tokens[l.TokenID] = true
	r.c.took(l.TokenID)
	switch l.Purpose {
	case PurposeVerifyContact:
		if r.verified == nil {
			r.verified = &l
		}
	case PurposeReply:
		r.replies = append(r.replies, l)
	case PurposeCancelRecovery:
		if r.cancelled == nil {
			r.cancelled = &l
		}
	}
}

// check is the recovery's own rule for decisions: an approval names one of
// the candidate profiles.
func (r *recovery) check(in DecisionInput) error {
	if in.Decision != certdesk.DecisionApprove {
		return nil
	}
	return certdesk.RecoveryApproval(r.d, in.ProfileID)
}

func (r *recovery) candidate(profileID string) (certdesk.RecoveryCandidate, bool) {
	for _, c := range r.d.Candidates {
		if c.ProfileID == profileID {
			return c, true
		}
	}
	return certdesk.RecoveryCandidate{}, false
}

func (r *recovery) claim() RecoveryClaim { return r.in.Claim }

// toRequester is an email to the contact address.
func (r *recovery) toRequester(step, kind string, data map[string]any) activities.SendEmailInput {
	return r.c.toLearner(activities.SendEmailInput{Step: step, Kind: kind, To: r.claim().ContactEmail, ToName: r.claim().LegalName, Data: data})
}

// verify emails the contact address a link and waits for its use. Unused
// within VerifyTTL, the case expires; nothing else is sent to an address
// nobody confirmed. Used, the claim is matched against the profiles: no
// matching happens before, so the public answer cannot depend on it.
func (r *recovery) verify(ctx workflow.Context) (bool, error) {
	msg := r.toRequester("verify", mail.RecoveryVerify, nil)
	msg.Link = &activities.LinkSpec{Purpose: PurposeVerifyContact, TTL: r.in.VerifyTTL.D()}
	if err := r.c.email(ctx, msg); err != nil {
		return false, err
	}
	_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusAwaitingLearner, Event: certdesk.EventVerificationSent,
		Data: mustJSON(map[string]any{"valid_for": r.in.VerifyTTL.D().String()})})
	if err != nil {
		return false, err
	}
	ok, err := workflow.AwaitWithTimeout(ctx, r.in.VerifyTTL.D(), func() bool { return r.verified != nil })
	if err != nil {
		return false, err
	}
	if !ok {
		_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusExpired, Resolution: certdesk.ResolutionUnverified,
			Event: certdesk.EventExpired, Data: mustJSON(map[string]any{"reason": "the contact address was not confirmed in time", "waited": r.in.VerifyTTL.D().String()})})
		return false, err
	}
	now := workflow.Now(ctx)
	r.d.Verified, r.d.VerifiedAt = true, &now
	var ev activities.RecoveryEvidence
	if err := workflow.ExecuteActivity(storeActivity(ctx), acts.RecoveryCandidates, certdesk.RecoveryClaim(r.in.Claim)).Get(ctx, &ev); err != nil {
		return false, err
	}
	if ev.Candidates != nil {
		r.d.Candidates = ev.Candidates
	}
	r.d.NewAccount = &ev.NewAccount
	strongest := "none"
	if len(ev.Candidates) > 0 {
		strongest = ev.Candidates[0].Strength
	}
	_, err = r.c.change(ctx, activities.ChangeCaseInput{Actor: certdesk.ActorPublic, Event: certdesk.EventVerified, Details: mustJSON(r.d),
		Data: mustJSON(map[string]any{"candidates": len(ev.Candidates), "strongest": strongest})})
	return true, err
}

// reject closes the case and tells the requester why.
func (r *recovery) reject(ctx workflow.Context, dec DecisionInput) (RecoveryResult, error) {
	_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusRejected, Resolution: certdesk.ResolutionRejected,
		Actor: certdesk.AgentActor(dec.AgentID), Event: certdesk.EventRejected, Data: mustJSON(map[string]any{"note": dec.Note})})
	if err != nil {
		return RecoveryResult{}, err
	}
	if err := r.c.email(ctx, r.toRequester("rejected", mail.RecoveryRejected, map[string]any{"note": dec.Note})); err != nil {
		return RecoveryResult{}, err
	}
	return RecoveryResult{Status: certdesk.StatusRejected, Resolution: certdesk.ResolutionRejected}, nil
}

// requestInfo emails the agent's question with a reply link and waits for
// the answer (at most LearnerWait). Each round has its own step.
func (r *recovery) requestInfo(ctx workflow.Context, dec DecisionInput) error {
	round := len(r.d.InfoRequests) + 1
	step := fmt.Sprintf("request-info-%d", round)
	r.d.InfoRequests = append(r.d.InfoRequests, certdesk.InfoRequest{Round: round, Step: step, Message: dec.Note,
		AgentID: dec.AgentID, AskedAt: workflow.Now(ctx)})
	ask := r.toRequester(step, mail.RecoveryRequestInfo, map[string]any{"message": dec.Note})
	ask.Link = &activities.LinkSpec{Purpose: PurposeReply, TTL: r.in.LearnerWait.D()}
	if err := r.c.email(ctx, ask); err != nil {
		return err
	}
	_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusAwaitingLearner, Actor: certdesk.AgentActor(dec.AgentID),
		Event: certdesk.EventInfoRequested, Details: mustJSON(r.d), Data: mustJSON(map[string]any{"round": round, "message": dec.Note})})
	if err != nil {
		return err
	}
	answered, err := workflow.AwaitWithTimeout(ctx, r.in.LearnerWait.D(), func() bool {
		for _, l := range r.replies {
			if l.Step == step {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	if !answered {
		r.d.InfoRequests[round-1].NoReply = true
		_, err := r.c.change(ctx, activities.ChangeCaseInput{Event: certdesk.EventNoReply, Details: mustJSON(r.d),
			Data: mustJSON(map[string]any{"round": round, "waited": r.in.LearnerWait.D().String()})})
		if err != nil {
			return err
		}
	}
	// Every answer that came is put on the case, each with its round.
	for len(r.replies) > 0 {
		l := r.replies[0]
		r.replies = r.replies[1:]
		at := workflow.Now(ctx)
		n := 0
		for i := range r.d.InfoRequests {
			if q := &r.d.InfoRequests[i]; q.Step == l.Step && q.Reply == "" {
				q.Reply, q.RepliedAt, n = l.Reply, &at, q.Round
			}
		}
		_, err := r.c.change(ctx, activities.ChangeCaseInput{Actor: certdesk.ActorPublic, Event: certdesk.EventReplied, Details: mustJSON(r.d),
			Data: mustJSON(map[string]any{"round": n, "reply": l.Reply})})
		if err != nil {
			return err
		}
	}
	return nil
}

// coolOffAndRebind warns every address on file for the chosen profile,
// tells the requester the date, waits the cooling-off (a "this wasn't me"
// link cancels), then binds the profile to the new account and tells the
// old and the new addresses. A profile moves only when at least one notice
// reached an address on file (accepted by the provider and not bounced
// since): otherwise nobody could have stopped it, and again is true — the
// case goes back to an agent, flagged, with the reason on its timeline.
func (r *recovery) coolOffAndRebind(ctx workflow.Context, dec DecisionInput) (res RecoveryResult, again bool, err error) {
	r.approvals++
	cand, _ := r.candidate(dec.ProfileID) // the validator saw it
	claim := r.claim()
	var addrs certdesk.ProfileAddresses
	err = workflow.ExecuteActivity(storeActivity(ctx), acts.RecoveryAddresses,
		activities.RecoveryAddressesInput{ProfileID: cand.ProfileID, NewAccountEmail: claim.NewAccountEmail}).Get(ctx, &addrs)
	if err != nil {
		return RecoveryResult{}, false, err
	}
	ends := workflow.Now(ctx).Add(r.in.CoolingOff.D())
	r.d.ChosenProfileID, r.d.ChosenMCID, r.d.CoolingOffEndsAt, r.d.Notified = cand.ProfileID, cand.MCID, &ends, len(addrs.Emails)
	_, err = r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusCoolingOff, Actor: certdesk.AgentActor(dec.AgentID),
		Event: certdesk.EventCoolingOff, Details: mustJSON(r.d),
		Data: mustJSON(map[string]any{"profile_id": cand.ProfileID, "mcid": cand.MCID, "ends_at": ends, "notified": len(addrs.Emails)})})
	if err != nil {
		return RecoveryResult{}, false, err
	}
	// Every owner gets the whole cooling-off from their notice: an email
	// held up (a provider outage, a worker restart) must not shorten it.
	// Cases approved before this change counted it from the approval.
	fromNotices := workflow.GetVersion(ctx, "cooling-off-from-notices", workflow.DefaultVersion, 1) == 1
	var steps []string
	for i, to := range addrs.Emails {
		ttl, effective := max(ends.Sub(workflow.Now(ctx)), time.Minute), ends
		if fromNotices {
			ttl, effective = r.in.CoolingOff.D(), workflow.Now(ctx).Add(r.in.CoolingOff.D())
		}
		step := r.roundStep(fmt.Sprintf("cooling-off-%d", i+1))
		err := r.c.email(ctx, activities.SendEmailInput{
			Step: step, Kind: mail.RecoveryCoolingOff, To: to, ToName: addrs.LegalName,
			Data: map[string]any{"mcid": cand.MCID, "new_account": claim.NewAccountEmail, "effective_at": effective.Format(timeFormat)},
			// The link works until the cooling-off ends, not beyond.
			Link: &activities.LinkSpec{Purpose: PurposeCancelRecovery, TTL: ttl},
		})
		if err != nil {
			return RecoveryResult{}, false, err
		}
		steps = append(steps, step)
	}
	if fromNotices {
		ends = workflow.Now(ctx).Add(r.in.CoolingOff.D())
		r.d.CoolingOffEndsAt = &ends
		_, err := r.c.change(ctx, activities.ChangeCaseInput{Event: certdesk.EventNoticesSent, Details: mustJSON(r.d),
			Data: mustJSON(map[string]any{"notified": len(addrs.Emails), "ends_at": ends})})
		if err != nil {
			return RecoveryResult{}, false, err
		}
	}
	if workflow.GetVersion(ctx, "requester-told-of-approval", workflow.DefaultVersion, 1) == 1 {
		err := r.c.email(ctx, r.toRequester(r.roundStep("approved"), mail.RecoveryApproved,
			map[string]any{"new_account": claim.NewAccountEmail, "effective_at": ends.Format(timeFormat)}))
		if err != nil {
			return RecoveryResult{}, false, err
		}
	}
	if _, err := workflow.AwaitWithTimeout(ctx, max(ends.Sub(workflow.Now(ctx)), 0), func() bool { return r.cancelled != nil }); err != nil {
		return RecoveryResult{}, false, err
	}
	if r.cancelled != nil {
		res, err := r.cancel(ctx, cand)
		return res, false, err
	}
	if workflow.GetVersion(ctx, "notices-must-reach", workflow.DefaultVersion, 1) == 1 {
		var reached []string
		err := workflow.ExecuteActivity(storeActivity(ctx), acts.EmailsReached, activities.EmailsReachedInput{CaseID: r.c.ID, Steps: steps}).Get(ctx, &reached)
		if err != nil {
			return RecoveryResult{}, false, err
		}
		if len(reached) == 0 {
			return RecoveryResult{}, true, r.noticesUndelivered(ctx, cand, len(steps))
		}
	}

	var rb certdesk.Rebinding
	err = workflow.ExecuteActivity(activityOptions(ctx), acts.RebindRecoveredProfile, activities.RebindInput{
		CaseID: r.c.ID, ProfileID: cand.ProfileID, NewAccountEmail: claim.NewAccountEmail, DisplayName: claim.LegalName,
	}).Get(ctx, &rb)
	if _, reason, refused := refusal(err); refused {
		_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusFailed, Resolution: certdesk.ResolutionRebindRefused,
			Event: certdesk.EventFailed, Data: mustJSON(map[string]any{"reason": reason})})
		return RecoveryResult{Status: certdesk.StatusFailed, Resolution: certdesk.ResolutionRebindRefused, ProfileID: cand.ProfileID}, false, err
	} else if err != nil {
		return RecoveryResult{}, false, err
	}
	// The case now belongs to the new account: its learner sees it.
	_, err = r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusCompleted, Resolution: certdesk.ResolutionRecovered, Event: certdesk.EventCompleted,
		AccountID: &rb.AccountID,
		Data: mustJSON(map[string]any{"profile_id": rb.ProfileID, "mcid": rb.MCID, "account_id": rb.AccountID,
			"account_created": rb.AccountCreated, "reactivated": rb.Reactivated})})
	if err != nil {
		return RecoveryResult{}, false, err
	}
	done := map[string]any{"mcid": cand.MCID, "new_account": claim.NewAccountEmail}
	for i, to := range addrs.Emails {
		err := r.c.email(ctx, activities.SendEmailInput{Step: fmt.Sprintf("completed-%d", i+1), Kind: mail.RecoveryCompleted, To: to, ToName: addrs.LegalName, Data: done})
		if err != nil {
			return RecoveryResult{}, false, err
		}
	}
	err = r.c.email(ctx, r.c.toLearner(activities.SendEmailInput{Step: "completed-new", Kind: mail.RecoveryCompleted, To: claim.NewAccountEmail, ToName: claim.LegalName, Data: done}))
	return RecoveryResult{Status: certdesk.StatusCompleted, Resolution: certdesk.ResolutionRecovered, ProfileID: cand.ProfileID}, false, err
}

// roundStep names an email step of the cooling-off: the first approval's
// steps keep their old names, a later approval's carry its round.
func (r *recovery) roundStep(step string) string {
	if r.approvals <= 1 {
		return step
	}
	return fmt.Sprintf("%s-round-%d", step, r.approvals)
}

// noticesUndelivered records that no notice of the cooling-off reached an
// address on file, flags the case and hands it back to the agents: the
// profile has not moved.
func (r *recovery) noticesUndelivered(ctx workflow.Context, cand certdesk.RecoveryCandidate, sent int) error {
	r.d.CoolingOffEndsAt = nil
	_, err := r.c.change(ctx, activities.ChangeCaseInput{Unreachable: boolp(true), Event: certdesk.EventNoticesUndelivered, Details: mustJSON(r.d),
		Data: mustJSON(map[string]any{"profile_id": cand.ProfileID, "mcid": cand.MCID, "notices": sent,
			"reason": "no notice reached an address on file (each was refused, bounced or dropped), so nobody could have stopped the move; " +
				"the profile has not moved. Check the addresses on file, then approve again or reject"})})
	return err
}

// cancel ends the case from a "this wasn't me" link: nothing changes on the
// profile, the owner who used the link is the actor, the case is flagged
// for security review, the requester is told it was stopped and every
// supervisor is emailed.
func (r *recovery) cancel(ctx workflow.Context, cand certdesk.RecoveryCandidate) (RecoveryResult, error) {
	byOwner := workflow.GetVersion(ctx, "owner-cancel-security-review", workflow.DefaultVersion, 1) == 1
	actor := certdesk.ActorPublic
	if byOwner {
		actor = certdesk.OwnerActor(cand.ProfileID)
	}
	_, err := r.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusCancelled, Resolution: certdesk.ResolutionCancelledByOwner,
		SecurityReview: boolp(true), Actor: actor, Event: certdesk.EventCancelled,
		Data: mustJSON(map[string]any{"reason": "an address on file used the \"this wasn't me\" link", "by": r.cancelled.Recipient, "step": r.cancelled.Step})})
	if err != nil {
		return RecoveryResult{}, err
	}
	res := RecoveryResult{Status: certdesk.StatusCancelled, Resolution: certdesk.ResolutionCancelledByOwner, ProfileID: cand.ProfileID}
	if err := r.c.email(ctx, r.toRequester("cancelled", mail.RecoveryCancelled, map[string]any{"mcid": cand.MCID})); err != nil {
		return res, err
	}
	if byOwner {
		err = r.c.tellSupervisors(ctx, "security-review", mail.CaseSecurityReview,
			map[string]any{"subject": r.subject, "case_url": "/console/cases/" + r.c.ID})
	}
	return res, err
}
