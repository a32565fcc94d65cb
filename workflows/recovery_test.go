package workflows_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/workflows"
)

// The recovery case's branches, in simulated time. A "click" does what the
// link page's POST does: it uses the token from the captured mail and
// signals the workflow; a decision goes through the decide update, as the
// console's does.

var daraClaim = workflows.RecoveryClaim{
	LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", MCID: "100005",
	PreviousEmail: "dara.murphy@outlook.example", NewAccountEmail: "dara.m@proton.example", Exam: "MS-900",
	Description: "I can no longer sign in to my old Outlook account.",
}

const hour = time.Hour

var dara = store.DemoID("profile:100005")

// recoveryEnv is an env running one recovery case.
type recoveryEnv struct {
	*env
	in workflows.RecoveryInput
}

func newRecovery(t *testing.T, dialect string, claim workflows.RecoveryClaim) *recoveryEnv {
	t.Helper()
	e := newEnv(t, dialect)
	// The store's clock is the simulated one: link expiry and timestamps
	// follow the workflow's time.
	e.store.Now = func() time.Time { return e.Now().UTC() }
	in := workflows.RecoveryInput{
		CaseID: certdesk.NewID(), Claim: claim,
		VerifyTTL:   workflows.Duration(certdesk.DefaultVerifyTTL),
		AgentSLA:    workflows.Duration(certdesk.DefaultAgentSLA),
		CoolingOff:  workflows.Duration(certdesk.DefaultCoolingOff),
		LearnerWait: workflows.Duration(certdesk.DefaultLearnerWait),
	}
	return &recoveryEnv{env: e, in: in}
}

// at runs f once the simulated clock reaches d after the start. Failures
// inside use Errorf: callbacks do not run on the test's goroutine.
func (e *recoveryEnv) at(d time.Duration, f func()) { e.RegisterDelayedCallback(f, d) }

func (e *recoveryEnv) run() workflows.RecoveryResult {
	e.t.Helper()
	e.ExecuteWorkflow(workflows.Recovery, e.in)
	if !e.IsWorkflowCompleted() {
		e.t.Fatal("the workflow did not complete")
	}
	var res workflows.RecoveryResult
	if err := e.GetWorkflowResult(&res); err != nil {
		e.t.Fatalf("workflow: %v", err)
	}
	return res
}

// lastMail returns the newest captured message of a kind to an address.
func (e *recoveryEnv) lastMail(to, kind string) (store.CapturedMail, bool) {
	ms := e.mails(to)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind == kind {
			return ms[i], true
		}
	}
	return store.CapturedMail{}, false
}

func kindsOf(ms []store.CapturedMail) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Kind)
	}
	return out
}

// click uses the link of the newest message of a kind to an address.
func (e *recoveryEnv) click(to, kind, reply string) {
	m, ok := e.lastMail(to, kind)
	if !ok {
		e.t.Errorf("no %s mail to %s to click", kind, to)
		return
	}
	var links []mail.Link
	_ = json.Unmarshal(m.Links, &links)
	raw := ""
	for _, l := range links {
		if _, tok, ok := strings.Cut(l.URL, "/l/"); ok {
			raw = tok
		}
	}
	hash, ok := certdesk.HashToken(raw)
	if !ok {
		e.t.Errorf("%s mail to %s has no token link: %s", kind, to, m.Links)
		return
	}
	_, err := e.store.ConsumeLinkToken(context.Background(), hash, func(t store.LinkToken) error {
		e.SignalWorkflow(workflows.SignalLink, workflows.LinkUsed{TokenID: t.ID, Step: t.Step, Purpose: t.Purpose, Recipient: t.Recipient, Reply: reply})
		return nil
	})
	if err != nil {
		e.t.Errorf("use the %s link: %v", kind, err)
	}
}

// decide sends an agent's decision; wantRefusal, when set, is a piece of the
// validator's reason (the decision must be refused).
func (e *recoveryEnv) decide(in workflows.DecisionInput, wantRefusal string) {
	if in.AgentID == "" {
		in.AgentID, in.Role = alice, certdesk.RoleAgent
	}
	e.UpdateWorkflow(workflows.UpdateDecide, certdesk.NewID(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if wantRefusal == "" || !strings.Contains(err.Error(), wantRefusal) {
				e.t.Errorf("decision %+v refused: %v (want refusal %q)", in, err, wantRefusal)
			}
		},
		OnAccept: func() {
			if wantRefusal != "" {
				e.t.Errorf("decision %+v accepted, want it refused (%s)", in, wantRefusal)
			}
		},
		OnComplete: func(any, error) {},
	}, in)
}

func (e *recoveryEnv) expectStatus(want certdesk.Status) {
	if c := e.caseOf(e.in.CaseID); c.Status != want {
		e.t.Errorf("at %v the case is %s, want %s", e.Now().Format(time.Kitchen), c.Status, want)
	}
}

func (e *recoveryEnv) details() certdesk.RecoveryDetails {
	var d certdesk.RecoveryDetails
	if err := json.Unmarshal(e.caseOf(e.in.CaseID).Details, &d); err != nil {
		e.t.Errorf("details: %v", err)
	}
	return d
}

func TestRecoveryExpiresUnverified(t *testing.T) {
	e := newRecovery(t, "sqlite", daraClaim)
	res := e.run()
	if res.Status != certdesk.StatusExpired || res.Resolution != certdesk.ResolutionUnverified {
		t.Fatalf("result %+v, want expired/unverified", res)
	}
	c := e.caseOf(e.in.CaseID)
	if c.Status != certdesk.StatusExpired || c.ClosedAt == nil || c.Requester != certdesk.ActorPublic || c.LearnerEmail != "dara.m@proton.example" {
		t.Errorf("case %+v", c)
	}
	if got, want := e.events(e.in.CaseID), []string{"opened", "verification_sent", "expired"}; !slices.Equal(got, want) {
		t.Errorf("timeline %q, want %q", got, want)
	}
	// One message to the unverified address, and no matching was done.
	if got := kindsOf(e.mails("dara.m@proton.example")); !slices.Equal(got, []string{mail.RecoveryVerify}) {
		t.Errorf("mail to the contact address %q, want only the verification", got)
	}
	if d := e.details(); d.Verified || len(d.Candidates) != 0 || d.Claim.MCID != "100005" {
		t.Errorf("details %+v: want the claim, unverified, no candidates", d)
	}
	if len(e.mails("dara.murphy@outlook.example")) != 0 {
		t.Error("the address on file heard of an unverified request")
	}
}

func TestRecoveryApprovedCoolsOffAndCompletes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		e := newRecovery(t, dialect, daraClaim)
		ctx := context.Background()
		e.at(1*hour, func() { e.click("dara.m@proton.example", mail.RecoveryVerify, "") })
		e.at(2*hour, func() {
			e.expectStatus(certdesk.StatusAwaitingAgent)
			d := e.details()
			if !d.Verified || len(d.Candidates) != 1 || d.Candidates[0].ProfileID != dara || d.Candidates[0].Strength != certdesk.StrengthStrong {
				t.Errorf("after verification: %+v, want Dara's profile as the one strong candidate", d)
			}
			if n := d.NewAccount; n == nil || n.Known || n.Email != "dara.m@proton.example" {
				t.Errorf("new account %+v, want dara.m@proton.example, not known yet", n)
			}
			e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove}, "name the profile")
			e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: store.DemoID("profile:100001")}, "not one of this case's candidates")
			e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: dara, Note: "MCID and name match"}, "")
		})
		e.at(3*hour, func() {
			e.expectStatus(certdesk.StatusCoolingOff)
			if got := kindsOf(e.mails("dara.murphy@outlook.example")); !slices.Equal(got, []string{mail.RecoveryCoolingOff}) {
				t.Errorf("the address on file got %q, want the cooling-off notice", got)
			}
			if p, _ := e.store.CertificationProfile(ctx, dara); *p.OwnerAccountID != store.DemoID("account:dara.murphy@outlook.example") {
				t.Error("the profile moved before the cooling-off ended")
			}
		})
		res := e.run()
		if res.Status != certdesk.StatusCompleted || res.Resolution != certdesk.ResolutionRecovered || res.ProfileID != dara {
			t.Fatalf("result %+v", res)
		}
		// The profile is bound to the new, active account; nothing else moved.
		acct, err := e.store.AccountByEmail(ctx, "dara.m@proton.example")
		if err != nil || acct.Status != certdesk.AccountActive || acct.Kind != certdesk.AccountPersonal {
			t.Fatalf("new account %+v, %v", acct, err)
		}
		p, _ := e.store.CertificationProfile(ctx, dara)
		if *p.OwnerAccountID != acct.ID || p.Email != "dara.murphy@outlook.example" {
			t.Errorf("profile %+v, want owned by %s", p, acct.ID)
		}
		if old, _ := e.store.AccountByEmail(ctx, "dara.murphy@outlook.example"); old.Status != certdesk.AccountInactive {
			t.Errorf("the lost account is %s", old.Status)
		}
		c := e.caseOf(e.in.CaseID)
		if c.Status != certdesk.StatusCompleted || c.SecurityReview || c.Escalated {
			t.Errorf("case %+v", c)
		}
		want := []string{"opened", "verification_sent", "verified", "awaiting_agent", "decided", "cooling_off", "notices_sent", "completed"}
		if got := e.events(e.in.CaseID); !slices.Equal(got, want) {
			t.Errorf("timeline %q, want %q", got, want)
		}
		evs, _ := e.store.Events(ctx, e.in.CaseID, 0, 0)
		if evs[4].Actor != certdesk.AgentActor(alice) || evs[2].Actor != certdesk.ActorPublic {
			t.Errorf("actors: decided by %s, verified by %s", evs[4].Actor, evs[2].Actor)
		}
		// The cooling-off lasted 72 hours from the last notice.
		if d := evs[7].At.Sub(evs[6].At); d < 72*hour || d > 73*hour {
			t.Errorf("completed %v after the notices went out, want 72h", d)
		}
		if got := kindsOf(e.mails("dara.murphy@outlook.example")); !slices.Equal(got, []string{mail.RecoveryCoolingOff, mail.RecoveryCompleted}) {
			t.Errorf("old address got %q", got)
		}
		if got := kindsOf(e.mails("dara.m@proton.example")); !slices.Equal(got, []string{mail.RecoveryVerify, mail.RecoveryApproved, mail.RecoveryCompleted}) {
			t.Errorf("new address got %q", got)
		}
		// The requester was told, at the approval, the date of the move.
		approved, _ := e.lastMail("dara.m@proton.example", mail.RecoveryApproved)
		if want := evs[6].At.Add(72 * hour).Format("Mon 2 Jan 2006, 15:04 MST"); !strings.Contains(approved.Text, want) {
			t.Errorf("the approval email does not give the date %s:\n%s", want, approved.Text)
		}
	})
}

func TestRecoveryCancelledDuringCoolingOff(t *testing.T) {
	e := newRecovery(t, "sqlite", daraClaim)
	ctx := context.Background()
	e.at(1*hour, func() { e.click("dara.m@proton.example", mail.RecoveryVerify, "") })
	e.at(2*hour, func() { e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: dara}, "") })
	e.at(30*hour, func() { e.click("dara.murphy@outlook.example", mail.RecoveryCoolingOff, "") })
	res := e.run()
	if res.Status != certdesk.StatusCancelled || res.Resolution != certdesk.ResolutionCancelledByOwner {
		t.Fatalf("result %+v", res)
	}
	c := e.caseOf(e.in.CaseID)
	if !c.SecurityReview || c.Status != certdesk.StatusCancelled || c.Resolution != "cancelled_by_owner" {
		t.Errorf("case %+v, want cancelled and flagged for security review", c)
	}
	if got := e.events(e.in.CaseID); got[len(got)-1] != "cancelled" {
		t.Errorf("timeline %q ends without the cancel", got)
	}
	// Nothing changed on the profile; no account was created.
	p, _ := e.store.CertificationProfile(ctx, dara)
	if *p.OwnerAccountID != store.DemoID("account:dara.murphy@outlook.example") {
		t.Errorf("the cancelled recovery moved the profile to %s", *p.OwnerAccountID)
	}
	if _, err := e.store.AccountByEmail(ctx, "dara.m@proton.example"); !store.IsNotFound(err) {
		t.Errorf("the cancelled recovery created the new account: %v", err)
	}
	if got := kindsOf(e.mails("dara.m@proton.example")); !slices.Equal(got, []string{mail.RecoveryVerify, mail.RecoveryApproved, mail.RecoveryCancelled}) {
		t.Errorf("contact address got %q, want the verification, the approval, then the cancellation", got)
	}
	if got := kindsOf(e.mails("dara.murphy@outlook.example")); !slices.Equal(got, []string{mail.RecoveryCoolingOff}) {
		t.Errorf("old address got %q", got)
	}
	// The owner stopped it, not the requester; every supervisor is told.
	evs, _ := e.store.Events(ctx, e.in.CaseID, 0, 0)
	if last := evs[len(evs)-1]; last.Actor != certdesk.OwnerActor(dara) {
		t.Errorf("the cancellation is recorded as done by %q, want the profile's owner", last.Actor)
	}
	if got := kindsOf(e.mails("sam.supervisor@certdesk.example")); !slices.Equal(got, []string{mail.CaseSecurityReview}) {
		t.Errorf("the supervisor got %q, want the security review notice", got)
	}
}

// refusingMailer refuses, for good, the messages its refuse function names;
// the others go to the captured mailbox.
type refusingMailer struct {
	next   mail.Mailer
	refuse func(mail.Message) bool
}

func (m *refusingMailer) Send(ctx context.Context, msg mail.Message) (string, error) {
	if m.refuse(msg) {
		return "", &mail.SendError{Status: 400, Message: "refused by the test"}
	}
	return m.next.Send(ctx, msg)
}

// A profile moves only once a cooling-off notice reached an address on
// file: when every notice was refused, bounced or dropped, the case goes
// back to an agent, flagged, and the profile stays; a second approval whose
// notice gets through completes it.
func TestRecoveryMovesOnlyAfterANoticeReachedAnAddressOnFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refuse bool   // the provider refuses the notices
		report string // the provider reports the notices bounced or dropped
	}{
		{name: "refused by the provider", refuse: true},
		{name: "bounced", report: "bounce: 550 mailbox unavailable"},
		{name: "dropped", report: "dropped: Bounced Address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRecovery(t, "sqlite", daraClaim)
			ctx := context.Background()
			firstRound := true
			e.acts.Mailer = &refusingMailer{next: e.acts.Mailer, refuse: func(m mail.Message) bool {
				return tc.refuse && firstRound && m.Kind == mail.RecoveryCoolingOff
			}}
			e.at(1*hour, func() { e.click("dara.m@proton.example", mail.RecoveryVerify, "") })
			e.at(2*hour, func() { e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: dara}, "") })
			if tc.report != "" {
				e.at(3*hour, func() {
					if _, err := e.store.EmailBounced(ctx, e.in.CaseID, "cooling-off-1", tc.report); err != nil {
						t.Errorf("report the notice: %v", err)
					}
				})
			}
			e.at(80*hour, func() {
				e.expectStatus(certdesk.StatusAwaitingAgent)
				c := e.caseOf(e.in.CaseID)
				if !c.Unreachable {
					t.Error("the case is not flagged unreachable")
				}
				if p, _ := e.store.CertificationProfile(ctx, dara); *p.OwnerAccountID != store.DemoID("account:dara.murphy@outlook.example") {
					t.Error("the profile moved although no notice reached an address on file")
				}
				evs, _ := e.store.Events(ctx, e.in.CaseID, 0, 0)
				found := false
				for _, ev := range evs {
					if ev.Type == "notices_undelivered" && strings.Contains(string(ev.Data), "no notice reached") {
						found = true
					}
				}
				if !found {
					t.Errorf("no notices_undelivered event with the reason: %q", e.events(e.in.CaseID))
				}
				firstRound = false
				e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: dara, Note: "address fixed"}, "")
			})
			res := e.run()
			if res.Status != certdesk.StatusCompleted {
				t.Fatalf("result %+v after the second approval", res)
			}
			if got := kindsOf(e.mails("dara.murphy@outlook.example")); !slices.Contains(got, mail.RecoveryCoolingOff) {
				t.Errorf("the second round's notice did not go out: %q", got)
			}
			if got := kindsOf(e.mails("dara.m@proton.example")); !slices.Equal(got, []string{mail.RecoveryVerify, mail.RecoveryApproved, mail.RecoveryApproved, mail.RecoveryCompleted}) {
				t.Errorf("the requester got %q", got)
			}
		})
	}
}

// Two rounds of questions: the first answered, the second not within the
// learner's wait; each time the case returns to the agent, who rejects it.
func TestRecoveryRequestInfoTwiceThenRejected(t *testing.T) {
	e := newRecovery(t, "sqlite", daraClaim)
	wait := certdesk.DefaultLearnerWait
	e.at(1*hour, func() { e.click("dara.m@proton.example", mail.RecoveryVerify, "") })
	e.at(2*hour, func() {
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionRequestInfo}, "say what information you need")
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionRequestInfo, Note: "Which exams did you pass, and when?"}, "")
	})
	e.at(3*hour, func() {
		e.expectStatus(certdesk.StatusAwaitingLearner)
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionReject, Note: "x"}, "not awaiting a decision")
		e.click("dara.m@proton.example", mail.RecoveryRequestInfo, "MS-900 in 2019 and SC-900 in 2021.")
	})
	e.at(4*hour, func() {
		e.expectStatus(certdesk.StatusAwaitingAgent)
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionRequestInfo, Note: "Where did you take SC-900?"}, "")
	})
	e.at(4*hour+wait+hour, func() {
		e.expectStatus(certdesk.StatusAwaitingAgent)
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionReject, Note: "We could not confirm it is you."}, "")
	})
	res := e.run()
	if res.Status != certdesk.StatusRejected || res.Resolution != certdesk.ResolutionRejected {
		t.Fatalf("result %+v", res)
	}
	want := []string{"opened", "verification_sent", "verified", "awaiting_agent",
		"decided", "info_requested", "replied", "awaiting_agent",
		"decided", "info_requested", "no_reply", "awaiting_agent",
		"decided", "rejected"}
	if got := e.events(e.in.CaseID); !slices.Equal(got, want) {
		t.Errorf("timeline\n %q\nwant\n %q", got, want)
	}
	d := e.details()
	if len(d.InfoRequests) != 2 || d.InfoRequests[0].Reply != "MS-900 in 2019 and SC-900 in 2021." || d.InfoRequests[0].RepliedAt == nil ||
		d.InfoRequests[1].Reply != "" || !d.InfoRequests[1].NoReply || d.InfoRequests[1].Step == d.InfoRequests[0].Step {
		t.Errorf("info requests %+v", d.InfoRequests)
	}
	ms := e.mails("dara.m@proton.example")
	if got, want := kindsOf(ms), []string{mail.RecoveryVerify, mail.RecoveryRequestInfo, mail.RecoveryRequestInfo, mail.RecoveryRejected}; !slices.Equal(got, want) {
		t.Fatalf("mail %q, want %q", got, want)
	}
	if !strings.Contains(ms[1].Text, "Which exams") || !strings.Contains(ms[3].Text, "could not confirm") {
		t.Errorf("the messages do not carry the agent's words:\n%s\n%s", ms[1].Text, ms[3].Text)
	}
	// The SLA counted agent time only: nothing escalated while the learner had the case.
	if c := e.caseOf(e.in.CaseID); c.Escalated {
		t.Error("escalated while the case waited for the learner")
	}
}

// Nobody decides for 48 hours: the case is escalated once and supervisors
// are emailed. This claim matches no profile, so it cannot be approved.
func TestRecoveryEscalatesAfterSLA(t *testing.T) {
	e := newRecovery(t, "sqlite", workflows.RecoveryClaim{LegalName: "Nobody Known", ContactEmail: "nobody@proton.example",
		NewAccountEmail: "nobody.new@proton.example", Description: "lost it"})
	e.at(1*hour, func() { e.click("nobody@proton.example", mail.RecoveryVerify, "") })
	e.at(48*hour, func() {
		if c := e.caseOf(e.in.CaseID); c.Escalated || c.SLADueAt == nil {
			t.Errorf("before the SLA: %+v", c)
		}
	})
	e.at(50*hour, func() {
		if c := e.caseOf(e.in.CaseID); !c.Escalated || c.Status != certdesk.StatusAwaitingAgent {
			t.Errorf("after the SLA: escalated=%v status %s", c.Escalated, c.Status)
		}
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: dara}, "no certification profile matches")
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionReject, Note: "No profile matches.", AgentID: store.DemoID("agent:sam.supervisor@certdesk.example"), Role: certdesk.RoleSupervisor}, "")
	})
	res := e.run()
	if res.Status != certdesk.StatusRejected {
		t.Fatalf("result %+v", res)
	}
	if d := e.details(); !d.Verified || len(d.Candidates) != 0 {
		t.Errorf("details %+v, want verified with no candidates", d)
	}
	if got := kindsOf(e.mails("sam.supervisor@certdesk.example")); !slices.Equal(got, []string{mail.CaseEscalated}) {
		t.Errorf("supervisor got %q, want one escalation", got)
	}
	evs := e.events(e.in.CaseID)
	if n := len(slices.DeleteFunc(slices.Clone(evs), func(s string) bool { return s != "escalated" })); n != 1 {
		t.Errorf("timeline %q: want one escalation", evs)
	}
	if c := e.caseOf(e.in.CaseID); !c.Escalated || c.SLADueAt != nil {
		t.Errorf("closed case: escalated=%v sla %v; want the flag kept, the SLA cleared", c.Escalated, c.SLADueAt)
	}
}

// A work account cannot own a certification profile: the approval is
// refused at once, and the agent rejects.
func TestRecoveryToAWorkAccountCannotBeApproved(t *testing.T) {
	claim := workflows.RecoveryClaim{LegalName: "Ben Okafor", ContactEmail: "ben.okafor@contoso.example", MCID: "100002",
		NewAccountEmail: "ben.okafor@contoso.example", Description: "I forgot my personal account's password."}
	e := newRecovery(t, "sqlite", claim)
	e.at(1*hour, func() { e.click("ben.okafor@contoso.example", mail.RecoveryVerify, "") })
	e.at(2*hour, func() {
		if n := e.details().NewAccount; n == nil || !n.Known || n.Kind != certdesk.AccountWork {
			t.Errorf("new account %+v, want Ben's known work account", n)
		}
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: store.DemoID("profile:100002")}, "needs a personal one")
		e.decide(workflows.DecisionInput{Decision: certdesk.DecisionReject, Note: "Send the request again with your personal account."}, "")
	})
	if res := e.run(); res.Status != certdesk.StatusRejected {
		t.Fatalf("result %+v", res)
	}
}

// The profile was merged away during the cooling-off: the re-binding is
// refused, and the case fails visibly instead of moving a merged profile.
func TestRecoveryFailsWhenTheProfileWasMergedMeanwhile(t *testing.T) {
	claim := workflows.RecoveryClaim{LegalName: "Chen Wei", ContactEmail: "chen@proton.example", MCID: "100004",
		NewAccountEmail: "chen.new@proton.example", Description: "I lost my Gmail account."}
	e := newRecovery(t, "sqlite", claim)
	p4, p3 := store.DemoID("profile:100004"), store.DemoID("profile:100003")
	e.at(1*hour, func() { e.click("chen@proton.example", mail.RecoveryVerify, "") })
	e.at(2*hour, func() { e.decide(workflows.DecisionInput{Decision: certdesk.DecisionApprove, ProfileID: p4}, "") })
	e.at(10*hour, func() {
		if _, err := e.store.SQL().Exec(`UPDATE certification_profiles SET status = 'merged', merged_into_id = $1 WHERE id = $2`, p3, p4); err != nil {
			t.Errorf("merge: %v", err)
		}
	})
	res := e.run()
	if res.Status != certdesk.StatusFailed || res.Resolution != certdesk.ResolutionRebindRefused {
		t.Fatalf("result %+v, want failed/rebind_refused", res)
	}
	evs, _ := e.store.Events(context.Background(), e.in.CaseID, 0, 0)
	if last := evs[len(evs)-1]; last.Type != "failed" || !strings.Contains(string(last.Data), "merged into another profile") {
		t.Errorf("timeline ends with %s %s", last.Type, last.Data)
	}
	if _, err := e.store.AccountByEmail(context.Background(), "chen.new@proton.example"); !store.IsNotFound(err) {
		t.Errorf("the refused re-binding created the account: %v", err)
	}
	if got := kindsOf(e.mails("chen.new@proton.example")); len(got) != 0 {
		t.Errorf("the new address was told %q", got)
	}
}
