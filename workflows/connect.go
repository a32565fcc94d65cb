package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// SignalAccountAdded is sent to a learner's connect workflow when an account
// is added to their learning profile. Its payload is the account's id.
const SignalAccountAdded = "account_added"

// ConnectWorkflowID is the id of a learning profile's connect workflow: one
// open connect case per learning profile, guarded by Temporal's workflow-id
// uniqueness (started with the use-existing conflict policy).
func ConnectWorkflowID(learningProfileID string) string { return "connect-" + learningProfileID }

// ConnectInput starts a connect case.
type ConnectInput struct {
	CaseID            string
	LearningProfileID string
	// AccountID is the account the learner asked from.
	AccountID string
	// LearnerWait is how long the case waits for the learner (14 days).
	LearnerWait Duration
	// AgentSLA is the SLA of the merge case run for duplicates (48 h).
	AgentSLA Duration
	// ParentCaseID is the inquiry an agent turned into this case.
	ParentCaseID string `json:",omitempty"`
	// Language is the learner's language for the case's emails to them
	// (i18n: "es", "pt-BR", …); "" is English, as for every case opened
	// before it was carried.
	Language string `json:",omitempty"`
}

// ConnectResult is how a connect case ended.
type ConnectResult struct {
	Status     certdesk.Status
	Resolution string
	ProfileID  string
	// MergeCaseID is the merge case run for duplicates, if one ran.
	MergeCaseID string
}

// Connect connects a learner's certification profile to their learning
// profile. See docs/design.md, "Connect": already connected → completed; no
// personal account → wait for the learner to add one (14 days); no profile
// → rejected; a profile connected elsewhere → rejected; duplicates → a
// merge case as a child, then its survivor; then the connection, made in
// one transaction that checks the rules again.
func Connect(ctx workflow.Context, in ConnectInput) (_ ConnectResult, err error) {
	if in.LearnerWait <= 0 {
		in.LearnerWait = Duration(certdesk.DefaultLearnerWait)
	}
	if in.AgentSLA <= 0 {
		in.AgentSLA = Duration(certdesk.DefaultAgentSLA)
	}
	r := &connectRun{in: in, c: newCase(in.CaseID), actor: certdesk.LearnerActor(in.AccountID),
		details: certdesk.ConnectDetails{Profiles: []certdesk.ConnectProfile{}},
		added:   workflow.GetSignalChannel(ctx, SignalAccountAdded), links: workflow.GetSignalChannel(ctx, SignalLink)}
	r.c.lang = in.Language
	defer r.c.settle(ctx)
	defer r.c.failVisibly(ctx, certdesk.KindConnect, r.opening, &err)
	if err := r.c.serve(ctx); err != nil {
		return ConnectResult{}, err
	}
	// The learner's account and learning profile exist: the API checked,
	// and the case's projection refers to them.
	if err := r.lookup(ctx); err != nil {
		return ConnectResult{}, err
	}
	if err := r.open(ctx); err != nil {
		return ConnectResult{}, err
	}
	for r.look.Connected == nil && !r.hasPersonalAccount() {
		resumed, err := r.awaitPersonalAccount(ctx)
		if err != nil {
			return ConnectResult{}, err
		}
		if !resumed {
			return r.end(ctx, certdesk.StatusExpired, certdesk.ConnectExpired, certdesk.EventExpired,
				"the personal account was not added to your learning profile in time.", "")
		}
		if err := r.lookup(ctx); err != nil {
			return ConnectResult{}, err
		}
	}
	if r.look.Connected != nil {
		return r.complete(ctx, *r.look.Connected, certdesk.ConnectAlreadyConnected)
	}

	if err := r.profilesFound(ctx); err != nil {
		return ConnectResult{}, err
	}
	found := r.candidates()
	if len(found) == 0 {
		return r.reject(ctx, certdesk.ConnectNoProfile, "none of the personal accounts on your learning profile owns a certification profile.", guidanceAlign)
	}
	if i := slices.IndexFunc(found, r.connectedElsewhere); i >= 0 {
		return r.reject(ctx, certdesk.ConnectConnectedElsewhere,
			fmt.Sprintf("your certification profile (MCID %s) is already connected to another learning profile.", found[i].MCID), guidanceElsewhere)
	}
	target := found[0].ID
	if len(found) > 1 {
		res, err := r.merge(ctx, found)
		if err != nil {
			return ConnectResult{}, err
		}
		switch {
		case res.Status == certdesk.StatusCompleted && res.SurvivorID != "":
			target = res.SurvivorID
		case res.Status == certdesk.StatusFailed:
			return r.end(ctx, certdesk.StatusFailed, certdesk.ConnectMergeFailed, certdesk.EventFailed,
				"the merge of your duplicate certification profiles could not be completed.", guidanceMergeFailed)
		default:
			return r.reject(ctx, certdesk.ConnectMergeRejected,
				"your certification profiles could not be merged, and only one certification profile can be connected.", guidanceMergeRejected)
		}
	}

	var res activities.ConnectProfileResult
	err = workflow.ExecuteActivity(activityOptions(ctx), acts.ConnectProfile, activities.ConnectProfileInput{
		CaseID: in.CaseID, LearningProfileID: in.LearningProfileID, ProfileID: target}).Get(ctx, &res)
	// The rules' refusals (already connected, connected elsewhere, not
	// owned, not active) are refusals like any activity's, their code the
	// resolution. (A case connected before answered them in the result's
	// Refused, which the histories of those cases still hold.)
	code, message, refused := refusal(err)
	switch {
	case refused && connectRefusals[code]:
		res.Refused, res.Message = code, message
	case refused:
		return r.end(ctx, certdesk.StatusFailed, certdesk.ConnectFailed, certdesk.EventFailed, "the certification profile could not be connected ("+code+").", guidanceAgain)
	case err != nil:
		return ConnectResult{}, err
	}
	switch res.Refused {
	case "":
		return r.complete(ctx, res.Profile, certdesk.ConnectConnected)
	case certdesk.ConnectAlreadyConnected:
		// Connected some other way meanwhile: the learner has what they asked for.
		if err := r.lookup(ctx); err != nil {
			return ConnectResult{}, err
		}
		if r.look.Connected != nil {
			return r.complete(ctx, *r.look.Connected, certdesk.ConnectAlreadyConnected)
		}
	case certdesk.ConnectConnectedElsewhere:
		return r.reject(ctx, res.Refused, res.Message+".", guidanceElsewhere)
	}
	return r.reject(ctx, res.Refused, res.Message+".", guidanceAgain)
}

// connectRefusals are the resolutions the connection's rules refuse with.
var connectRefusals = map[string]bool{certdesk.ConnectAlreadyConnected: true, certdesk.ConnectConnectedElsewhere: true,
	certdesk.ConnectNotOwned: true, certdesk.ConnectProfileNotActive: true}

// What the learner is told to do when a connect case cannot connect.
const (
	guidanceAlign = "Connect with the same personal Microsoft account that you use to sign in to your certification profile. " +
		"If you sign in to your learning profile with a work or school account, add that personal account in Settings, " +
		"Account Management, \"Add account\", then ask to connect again (see \"Align certification profile and Learn profile accounts\"). " +
		"If you can no longer sign in to that account, ask us to recover your certification profile."
	guidanceElsewhere = "A certification profile can be connected to one learning profile only, and other profiles can only be merged into the connected one. " +
		"Sign in to the learning profile it is connected to; if it is not yours, contact certification support."
	guidanceMergeRejected = "Only one certification profile can be connected, so duplicates must be merged first. " +
		"The email about the merge says why it was not approved; reply to it or contact certification support, then ask to connect again."
	guidanceMergeFailed = "Nothing was changed. Please ask to connect again later, or contact certification support."
	guidanceAgain       = "Please ask to connect again: we will look at your profiles afresh. If it happens again, contact certification support."
)

// connectRun is a connect case in progress.
type connectRun struct {
	in    ConnectInput
	c     *caseRun
	actor certdesk.Actor
	// look is the latest lookup; details what the case shows.
	look    activities.ConnectLookup
	details certdesk.ConnectDetails
	// profiles are the certification profiles the case is about.
	profiles []certdesk.CertificationProfile

	added, links workflow.ReceiveChannel
	usedTokens   []string
	// until is when the wait for the learner ends (set by the first
	// wait, kept by the next ones); round counts the add-account emails.
	until time.Time
	round int
}

func (r *connectRun) lookup(ctx workflow.Context) error {
	err := workflow.ExecuteActivity(storeActivity(ctx), acts.LookupConnect, activities.LookupConnectInput{
		LearningProfileID: r.in.LearningProfileID, AccountID: r.in.AccountID}).Get(ctx, &r.look)
	if err != nil {
		return err
	}
	r.details.Accounts = make([]certdesk.ConnectAccount, len(r.look.Accounts))
	for i, a := range r.look.Accounts {
		r.details.Accounts[i] = certdesk.ConnectAccount{ID: a.ID, Email: a.Email, Kind: a.Kind, Status: a.Status}
	}
	return nil
}

// open writes the case's projection; the API has usually written it
// already, and then this changes nothing.
func (r *connectRun) open(ctx workflow.Context) error {
	_, err := r.c.open(ctx, r.opening(), r.actor, map[string]any{"learning_profile_id": r.in.LearningProfileID, "account_id": r.in.AccountID})
	return err
}

// opening is the projection the case opens with.
func (r *connectRun) opening() certdesk.Case {
	lp, acct := r.in.LearningProfileID, r.in.AccountID
	cs := certdesk.Case{
		Kind: certdesk.KindConnect, Subject: certdesk.ConnectSubject(r.look.LearnerName),
		LearnerName: r.look.LearnerName, LearnerEmail: r.look.LearnerEmail,
		LearningProfileID: &lp, AccountID: &acct, Requester: r.actor,
	}
	if r.in.ParentCaseID != "" {
		parent := r.in.ParentCaseID
		cs.ParentCaseID = &parent
	}
	return cs
}

// change applies the next transition, with the case's details and profiles.
func (r *connectRun) change(ctx workflow.Context, in activities.ChangeCaseInput) (certdesk.Case, error) {
	in.Details = mustJSON(r.details)
	in.ProfileIDs, in.MCIDs = []string{}, []string{}
	for _, p := range r.profiles {
		in.ProfileIDs, in.MCIDs = append(in.ProfileIDs, p.ID), append(in.MCIDs, p.MCID)
	}
	return r.c.change(ctx, in)
}

// email sends one email of the case to the learner.
func (r *connectRun) email(ctx workflow.Context, step, kind string, data map[string]any, link *activities.LinkSpec) error {
	return r.c.email(ctx, r.c.toLearner(activities.SendEmailInput{Step: step, Kind: kind, To: r.look.LearnerEmail,
		ToName: r.look.LearnerName, Data: data, Link: link}))
}

func (r *connectRun) hasPersonalAccount() bool {
	return slices.ContainsFunc(r.look.Accounts, func(a certdesk.Account) bool { return a.Kind == certdesk.AccountPersonal })
}

// candidates are the profiles found: the owned ones, then their duplicates.
func (r *connectRun) candidates() []certdesk.CertificationProfile {
	return append(slices.Clip(r.look.Owned), r.look.Duplicates...)
}

func (r *connectRun) connectedElsewhere(p certdesk.CertificationProfile) bool {
	return p.ConnectedLearningProfileID != nil && *p.ConnectedLearningProfileID != r.in.LearningProfileID
}

// awaitPersonalAccount moves the case to awaiting_learner, emails the steps
// to add the personal account (with an "I've added it" link), and waits for
// the account to be added or the link to be used. False: the wait ran out.
// Every wait of a case ends at the same deadline, set by the first.
func (r *connectRun) awaitPersonalAccount(ctx workflow.Context) (bool, error) {
	now := workflow.Now(ctx)
	if r.until.IsZero() {
		r.until = now.Add(r.in.LearnerWait.D())
	}
	until := r.until
	left := until.Sub(now)
	if left <= 0 {
		return false, nil
	}
	r.round++
	step := "add-account-" + strconv.Itoa(r.round)
	r.details.WaitingFor, r.details.WaitUntil = certdesk.WaitPersonalAccount, &until
	if _, err := r.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusAwaitingLearner, Event: certdesk.EventAwaitingLearner,
		Data: mustJSON(map[string]any{"waiting_for": certdesk.WaitPersonalAccount, "until": until, "email_step": step})}); err != nil {
		return false, err
	}
	if err := r.email(ctx, step, mail.ConnectAddAccount, map[string]any{"personal_hint": ""},
		&activities.LinkSpec{Purpose: PurposeAccountAdded, TTL: left}); err != nil {
		return false, err
	}

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	var (
		event certdesk.EventType
		data  map[string]any
	)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(r.added, func(ch workflow.ReceiveChannel, _ bool) {
		var accountID string
		ch.Receive(ctx, &accountID)
		event, data = certdesk.EventAccountAdded, map[string]any{"account_id": accountID}
	})
	sel.AddReceive(r.links, func(ch workflow.ReceiveChannel, _ bool) {
		var l LinkUsed
		ch.Receive(ctx, &l)
		if l.Purpose != PurposeAccountAdded || slices.Contains(r.usedTokens, l.TokenID) {
			workflow.GetLogger(ctx).Warn("link ignored", "purpose", l.Purpose, "token", l.TokenID)
			return
		}
		r.usedTokens = append(r.usedTokens, l.TokenID)
		r.c.took(l.TokenID)
		event, data = certdesk.EventLinkUsed, map[string]any{"step": l.Step, "purpose": l.Purpose}
	})
	expired := false
	sel.AddFuture(workflow.NewTimer(timerCtx, left), func(workflow.Future) { expired = true })
	for event == "" && !expired {
		sel.Select(ctx)
	}
	if expired {
		return false, nil
	}
	r.details.WaitingFor, r.details.WaitUntil = "", nil
	_, err := r.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusOpen, Actor: r.actor, Event: event, Data: mustJSON(data)})
	return true, err
}

// profilesFound records the certification profiles found on the case.
func (r *connectRun) profilesFound(ctx workflow.Context) error {
	r.profiles = r.candidates()
	r.details.Profiles = []certdesk.ConnectProfile{}
	var mcids []string
	for _, p := range r.look.Owned {
		r.details.Profiles = append(r.details.Profiles, r.profileDetail(p, certdesk.FoundOwned))
	}
	for _, p := range r.look.Duplicates {
		r.details.Profiles = append(r.details.Profiles, r.profileDetail(p, certdesk.FoundDuplicate))
	}
	for _, p := range r.profiles {
		mcids = append(mcids, p.MCID)
	}
	_, err := r.change(ctx, activities.ChangeCaseInput{Event: certdesk.EventProfilesFound, Subject: certdesk.ConnectSubject(r.look.LearnerName, mcids...),
		Data: mustJSON(map[string]any{"profiles": r.details.Profiles})})
	return err
}

func (r *connectRun) profileDetail(p certdesk.CertificationProfile, found string) certdesk.ConnectProfile {
	return certdesk.ConnectProfile{ID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Status: p.Status, Found: found,
		ConnectedElsewhere: r.connectedElsewhere(p)}
}

// merge runs a merge case of the profiles found as a child workflow and
// waits for its outcome. A merge that fails is a result too (failed).
func (r *connectRun) merge(ctx workflow.Context, profiles []certdesk.CertificationProfile) (MergeResult, error) {
	var childID string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return certdesk.NewID() }).Get(&childID); err != nil {
		return MergeResult{}, err
	}
	ids := make([]string, len(profiles))
	for i, p := range profiles {
		ids[i] = p.ID
	}
	started := func() error {
		r.details.WaitingFor, r.details.MergeCaseID = certdesk.WaitMerge, childID
		_, err := r.change(ctx, activities.ChangeCaseInput{Event: certdesk.EventMergeStarted,
			Data: mustJSON(map[string]any{"merge_case_id": childID, "profile_ids": ids})})
		return err
	}
	// The child's id comes from a side effect, which a retried workflow
	// task (a worker killed before the task completed) chooses again; so
	// the projection names it only once the child's start is in the
	// history. Cases started before this change wrote it first.
	afterStart := workflow.GetVersion(ctx, "merge-started-after-child-start", workflow.DefaultVersion, 1) == 1
	if !afterStart {
		if err := started(); err != nil {
			return MergeResult{}, err
		}
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: MergeWorkflowID(childID),
		// The merge is a case of its own, worked by agents: it ends by its
		// own rules even if this case is terminated.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		Memo:              map[string]any{"case_id": childID},
		// Findable with Temporal's tools from its start (search.go).
		TypedSearchAttributes: r.c.childSearchAttributes(ctx, childID, certdesk.KindMerge),
	})
	mergeIn := MergeInput{
		CaseID: childID, ProfileIDs: ids, RequestedBy: r.actor, ParentCaseID: r.c.ID,
		LearningProfileID: r.in.LearningProfileID, AccountID: r.in.AccountID, AgentSLA: r.in.AgentSLA,
		Language: r.in.Language,
	}
	// The learner must end connected to a profile their sign-in owns: the
	// merge goes into one owned by the learning profile's personal account.
	// Cases started before this change let the merge take the oldest.
	if workflow.GetVersion(ctx, "merge-into-owned", workflow.DefaultVersion, 1) == 1 {
		for _, a := range r.look.Accounts {
			if a.Kind == certdesk.AccountPersonal {
				mergeIn.Owners = append(mergeIn.Owners, a.ID)
			}
		}
	}
	child := workflow.ExecuteChildWorkflow(cctx, Merge, mergeIn)
	var res MergeResult
	err := child.GetChildWorkflowExecution().Get(ctx, nil)
	if err == nil && afterStart {
		if err := started(); err != nil {
			return MergeResult{}, err
		}
	}
	if err == nil {
		err = child.Get(ctx, &res)
	}
	data := map[string]any{"merge_case_id": childID}
	if err != nil {
		workflow.GetLogger(ctx).Error("merge case failed", "merge_case", childID, "err", err)
		res = MergeResult{Status: certdesk.StatusFailed}
		data["error"] = "the merge case failed"
	}
	data["status"], data["resolution"], data["survivor_id"] = res.Status, res.Resolution, res.SurvivorID
	r.details.WaitingFor = ""
	if res.Status == certdesk.StatusCompleted {
		for i := range r.details.Profiles {
			if p := &r.details.Profiles[i]; p.ID == res.SurvivorID {
				p.Found = certdesk.FoundSurvivor
			} else {
				p.Status = certdesk.ProfileMerged
			}
		}
	}
	_, err = r.change(ctx, activities.ChangeCaseInput{Event: certdesk.EventMergeFinished, Data: mustJSON(data)})
	return res, err
}

// complete ends the case completed: the profile is connected.
func (r *connectRun) complete(ctx workflow.Context, p certdesk.CertificationProfile, resolution string) (ConnectResult, error) {
	r.details.WaitingFor, r.details.ConnectedProfileID, r.details.ConnectedMCID = "", p.ID, p.MCID
	event := certdesk.EventConnected
	if resolution == certdesk.ConnectAlreadyConnected {
		event = certdesk.EventAlreadyConnected
	}
	if _, err := r.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusCompleted, Resolution: resolution, Event: event,
		Data: mustJSON(map[string]any{"profile_id": p.ID, "mcid": p.MCID})}); err != nil {
		return ConnectResult{}, err
	}
	// Nothing changed for a learning profile that was connected already:
	// the learner was told when it was connected. (Cases started before
	// this change emailed again.)
	quiet := resolution == certdesk.ConnectAlreadyConnected &&
		workflow.GetVersion(ctx, "no-mail-when-already-connected", workflow.DefaultVersion, 1) == 1
	if quiet {
		return ConnectResult{Status: certdesk.StatusCompleted, Resolution: resolution, ProfileID: p.ID, MergeCaseID: r.details.MergeCaseID}, nil
	}
	if err := r.email(ctx, "completed", mail.ConnectCompleted, map[string]any{"mcid": p.MCID}, nil); err != nil {
		return ConnectResult{}, err
	}
	return ConnectResult{Status: certdesk.StatusCompleted, Resolution: resolution, ProfileID: p.ID, MergeCaseID: r.details.MergeCaseID}, nil
}

// reject ends the case rejected, telling the learner why and what to do.
func (r *connectRun) reject(ctx workflow.Context, resolution, reason, guidance string) (ConnectResult, error) {
	return r.end(ctx, certdesk.StatusRejected, resolution, certdesk.EventRejected, reason, guidance)
}

// end ends the case without a connection (rejected, expired or failed) and
// emails the learner.
func (r *connectRun) end(ctx workflow.Context, status certdesk.Status, resolution string, event certdesk.EventType, reason, guidance string) (ConnectResult, error) {
	r.details.WaitingFor, r.details.WaitUntil, r.details.Reason = "", nil, reason
	if _, err := r.change(ctx, activities.ChangeCaseInput{Status: status, Resolution: resolution, Event: event,
		Data: mustJSON(map[string]any{"resolution": resolution, "reason": reason})}); err != nil {
		return ConnectResult{}, err
	}
	var err error
	if status == certdesk.StatusExpired {
		err = r.email(ctx, "expired", mail.ConnectExpired, nil, nil)
	} else {
		// The resolution lets a translated email say the reason in its
		// language; reason and guidance are the English words.
		err = r.email(ctx, string(status), mail.ConnectRejected, map[string]any{"reason": reason, "guidance": guidance, "resolution": resolution}, nil)
	}
	if err != nil {
		return ConnectResult{}, err
	}
	return ConnectResult{Status: status, Resolution: resolution, MergeCaseID: r.details.MergeCaseID}, nil
}
