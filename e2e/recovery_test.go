// Package e2e_test drives whole cases through certdesk's HTTP API on the
// embedded stack (Temporal server, worker with the real activities, store,
// captured mail), clicking the links from the captured mail.
package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

func daraRequest() map[string]string {
	return map[string]string{
		"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example", "mcid": "100005",
		"previous_email": "dara.murphy@outlook.example", "new_account_email": "dara.m@proton.example", "exam": "MS-900",
		"description": "My old Outlook account was closed; I can't sign in to my certification profile.",
	}
}

// request sends the public form and expects the one answer.
func request(t *testing.T, s *stacktest.Stack, body any) stacktest.Response {
	t.Helper()
	r := s.Do("POST", "/api/v1/recovery-requests", "", body)
	if r.Code != http.StatusAccepted || r.JSON(t)["status"] != "received" {
		t.Fatalf("recovery request = %d %s, want 202", r.Code, r.Body)
	}
	return r
}

// click uses an email's link the way a browser does: the page, then its button.
// click opens an email's link, then uses it, and returns what the page
// said: where the link led, as the case's workflow answered.
func click(t *testing.T, s *stacktest.Stack, m stacktest.Mail, form stacktest.Form) string {
	t.Helper()
	link := m.Link(t)
	if r := s.Do("GET", link, "", nil); r.Code != http.StatusOK {
		t.Fatalf("GET %s link = %d", m.Kind, r.Code)
	}
	if form == nil {
		form = stacktest.Form{}
	}
	r := s.Do("POST", link, "", form)
	if r.Code != http.StatusOK {
		t.Fatalf("POST %s link = %d %s", m.Kind, r.Code, r.Body)
	}
	if strings.Contains(string(r.Body), "being updated") {
		t.Errorf("the %s link's page did not learn where the link led: %s", m.Kind, r.Body)
	}
	return string(r.Body)
}

// verifiedRequest sends Dara's request, confirms the contact address from
// the mail, and returns the case once it awaits an agent.
func verifiedRequest(t *testing.T, s *stacktest.Stack) string {
	t.Helper()
	request(t, s, daraRequest())
	verify := s.AwaitMail("dara.m@proton.example", mail.RecoveryVerify)
	click(t, s, verify, nil)
	s.AwaitStatus(verify.CaseID, certdesk.StatusAwaitingAgent)
	return verify.CaseID
}

// decide posts an agent's decision and expects it accepted.

// timeline lists a case's event types through the API.
// eventTypes is a case's timeline as its event types.
func eventTypes(t *testing.T, s *stacktest.Stack, token, caseID string) []string {
	t.Helper()
	out := []string{}
	for _, e := range timeline(t, s, token, caseID) {
		out = append(out, string(e.Type))
	}
	return out
}

func TestDaraRecoversHerProfile(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Configure: func(c *config.Config) {
		c.CoolingOff = 3 * time.Second // shortened for the test
	}})
	ctx := context.Background()
	profile := store.DemoID("profile:100005")
	caseID := verifiedRequest(t, s)

	alice := s.Login("alice.agent@certdesk.example")
	var cs struct {
		Status    certdesk.Status
		Requester certdesk.Actor
		Details   struct {
			Candidates []struct {
				ProfileID string `json:"profile_id"`
				MCID      string
				Strength  string
				Evidence  []certdesk.Evidence
			}
		}
	}
	s.Do("GET", "/api/v1/cases/"+caseID, alice, nil).Decode(t, &cs)
	if cs.Status != certdesk.StatusAwaitingAgent || cs.Requester != certdesk.ActorPublic || len(cs.Details.Candidates) != 1 {
		t.Fatalf("case for the agent: %+v", cs)
	}
	if c := cs.Details.Candidates[0]; c.ProfileID != profile || c.MCID != "100005" || c.Strength != certdesk.StrengthStrong || len(c.Evidence) != 4 {
		t.Fatalf("candidate %+v, want Dara's profile, strong, with four pieces of evidence", c)
	}
	if r := s.Do("POST", "/api/v1/cases/"+caseID+"/decision", alice, map[string]string{"decision": "approve"}); r.Code != http.StatusConflict {
		t.Errorf("approve without a profile = %d %s, want 409", r.Code, r.Body)
	}
	if r := s.Do("POST", "/api/v1/cases/"+caseID+"/claim", alice, nil); r.Code != http.StatusOK {
		t.Fatalf("claim = %d %s", r.Code, r.Body)
	}
	decide(t, s, alice, caseID, map[string]string{"decision": "approve", "profile_id": profile, "note": "MCID, name and old address match"}, http.StatusOK)

	notice := s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCoolingOff)
	if notice.CaseID != caseID || len(notice.Links) == 0 {
		t.Errorf("cooling-off notice %+v, want a \"this wasn't me\" link", notice)
	}
	done := s.AwaitStatus(caseID, certdesk.StatusCompleted)
	if done.Resolution != certdesk.ResolutionRecovered || done.SecurityReview {
		t.Errorf("completed case %+v", done)
	}
	s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCompleted)
	s.AwaitMail("dara.m@proton.example", mail.RecoveryCompleted)

	// The store: the profile is bound to the new, active account; the lost
	// account stays inactive; the certifications are where they were.
	acct, err := s.Store.AccountByEmail(ctx, "dara.m@proton.example")
	if err != nil || acct.Status != certdesk.AccountActive || acct.Kind != certdesk.AccountPersonal {
		t.Fatalf("new account %+v, %v", acct, err)
	}
	p, _ := s.Store.CertificationProfile(ctx, profile)
	if p.OwnerAccountID == nil || *p.OwnerAccountID != acct.ID || p.Status != certdesk.ProfileActive {
		t.Fatalf("profile %+v, want owned by %s", p, acct.ID)
	}
	if old, _ := s.Store.AccountByEmail(ctx, "dara.murphy@outlook.example"); old.Status != certdesk.AccountInactive {
		t.Errorf("lost account is %s", old.Status)
	}
	if certs, _ := s.Store.Certifications(ctx, profile); len(certs) != 2 {
		t.Errorf("%d certifications on the profile, want Dara's 2", len(certs))
	}
	want := []string{"opened", "verification_sent", "verified", "awaiting_agent", "claimed", "decided", "cooling_off", "notices_sent", "completed"}
	if got := eventTypes(t, s, alice, caseID); !slices.Equal(got, want) {
		t.Errorf("timeline %q, want %q", got, want)
	}

	// Dara signs in with the new account and finds her profile.
	var me struct {
		CertificationProfiles []struct{ MCID string } `json:"certification_profiles"`
	}
	s.Do("GET", "/api/v1/me", s.Login("dara.m@proton.example"), nil).Decode(t, &me)
	if len(me.CertificationProfiles) != 1 || me.CertificationProfiles[0].MCID != "100005" {
		t.Errorf("Dara's new account sees %+v", me.CertificationProfiles)
	}
	// Sign-ins: the new account records them; the lost one stays inactive.
	if r := s.Do("POST", "/api/v1/sign-in-events", alice, map[string]string{"email": "dara.m@proton.example"}); r.Code != http.StatusOK {
		t.Errorf("sign-in on the recovered account = %d %s", r.Code, r.Body)
	}
	if r := s.Do("POST", "/api/v1/sign-in-events", alice, map[string]string{"email": "dara.murphy@outlook.example"}); r.Code != http.StatusConflict {
		t.Errorf("sign-in on the lost account = %d, want 409", r.Code)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "recovery-completed-after-notices-reached")
}

// Both a request that matches a profile and one that matches nothing start a
// case and get the same answer.
func TestRecoveryFormAnswersAlike(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	a := request(t, s, daraRequest())
	b := request(t, s, map[string]string{"legal_name": "Nobody Known", "contact_email": "nobody@proton.example",
		"new_account_email": "nobody.new@proton.example", "description": "I lost access."})
	if string(a.Body) != string(b.Body) {
		t.Errorf("bodies differ:\n%s\n%s", a.Body, b.Body)
	}
	for _, h := range []http.Header{a.Header, b.Header} {
		h.Del("X-Request-Id")
		h.Del("Date")
	}
	ah, _ := json.Marshal(a.Header)
	bh, _ := json.Marshal(b.Header)
	if string(ah) != string(bh) {
		t.Errorf("headers differ:\n%s\n%s", ah, bh)
	}
	s.AwaitMail("dara.m@proton.example", mail.RecoveryVerify)
	s.AwaitMail("nobody@proton.example", mail.RecoveryVerify)
}

func TestRecoveryCancelledFromTheNotice(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	ctx := context.Background()
	id := verifiedRequest(t, s)
	bob := s.Login("bob.agent@certdesk.example")
	decide(t, s, bob, id, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}, http.StatusOK)
	s.AwaitStatus(id, certdesk.StatusCoolingOff)

	page := click(t, s, s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCoolingOff), nil)
	if !strings.Contains(page, "Stopped: nothing was changed") {
		t.Errorf("the owner's page after stopping the recovery does not say it stopped: %s", page)
	}
	c := s.AwaitStatus(id, certdesk.StatusCancelled)
	if !c.SecurityReview || c.Resolution != certdesk.ResolutionCancelledByOwner {
		t.Errorf("cancelled case %+v, want flagged for security review", c)
	}
	s.AwaitMail("dara.m@proton.example", mail.RecoveryCancelled)
	p, _ := s.Store.CertificationProfile(ctx, store.DemoID("profile:100005"))
	if *p.OwnerAccountID != store.DemoID("account:dara.murphy@outlook.example") {
		t.Errorf("the cancelled recovery moved the profile")
	}
	// The owner stopped it; supervisors are told and find it in the
	// security review view, and one closes the review with a note.
	sam := s.Login("sam.supervisor@certdesk.example")
	s.AwaitMail("sam.supervisor@certdesk.example", mail.CaseSecurityReview)
	evs := timeline(t, s, bob, id)
	if last := evs[len(evs)-1]; last.Type != "cancelled" || last.Actor != certdesk.OwnerActor(store.DemoID("profile:100005")) {
		t.Errorf("the cancellation is recorded as %s by %s, want the profile's owner", last.Type, last.Actor)
	}
	inReview := func() bool {
		var list struct{ Items []certdesk.Case }
		s.Do("GET", "/api/v1/cases?security_review=true", sam, nil).Decode(t, &list)
		return len(list.Items) == 1 && list.Items[0].ID == id
	}
	if !inReview() {
		t.Error("the case is not listed under security_review=true")
	}
	if r := s.Do("GET", "/console?view=security", sam, nil); r.Code != http.StatusOK || !strings.Contains(string(r.Body), id) {
		t.Errorf("the console's security review view = %d, without the case", r.Code)
	}
	review := "/api/v1/cases/" + id + "/security-review"
	if r := s.Do("POST", review, bob, map[string]string{"note": "looked at it"}); r.Code != http.StatusForbidden {
		t.Errorf("an agent closed the review: %d", r.Code)
	}
	if r := s.Do("POST", review, sam, map[string]string{"note": "  "}); r.Code != http.StatusBadRequest {
		t.Errorf("closing without a note = %d, want 400", r.Code)
	}
	if r := s.Do("POST", review, sam, map[string]string{"note": "the owner confirmed by phone the request was not theirs"}); r.Code != http.StatusOK {
		t.Fatalf("closing the review = %d %s", r.Code, r.Body)
	}
	if after := s.AwaitStatus(id, certdesk.StatusCancelled); after.SecurityReview {
		t.Error("the review is still open")
	}
	if types := eventTypes(t, s, sam, id); types[len(types)-1] != "security_review_cleared" {
		t.Errorf("timeline ends %q", types)
	}
	if r := s.Do("POST", review, sam, map[string]string{"note": "again"}); r.Code != http.StatusConflict {
		t.Errorf("closing it twice = %d, want 409", r.Code)
	}
	if inReview() {
		t.Error("the case is still listed for review")
	}
	s.RecordHistory(c.WorkflowID, c.RunID, "recovery-cancelled-by-owner")
}

// When no cooling-off notice reaches an address on file (here SendGrid
// reports it bounced), the profile does not move: the case goes back to the
// agents, flagged unreachable, with the reason on its timeline.
func TestRecoveryWhoseNoticesBounceGoesBackToAnAgent(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Configure: func(c *config.Config) { c.CoolingOff = 3 * time.Second }})
	ctx := context.Background()
	id := verifiedRequest(t, s)
	bob := s.Login("bob.agent@certdesk.example")
	decide(t, s, bob, id, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}, http.StatusOK)
	notice := s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCoolingOff)
	if _, err := s.Store.EmailBounced(ctx, id, notice.Step, "bounce: 550 no such mailbox"); err != nil {
		t.Fatal(err)
	}
	s.AwaitCase(id, "back with an agent, flagged unreachable", func(c certdesk.Case) bool {
		return c.Unreachable && c.Status == certdesk.StatusAwaitingAgent
	})
	if types := eventTypes(t, s, bob, id); !slices.Contains(types, "notices_undelivered") {
		t.Errorf("timeline %q lacks notices_undelivered", types)
	}
	p, _ := s.Store.CertificationProfile(ctx, store.DemoID("profile:100005"))
	if *p.OwnerAccountID != store.DemoID("account:dara.murphy@outlook.example") {
		t.Fatal("the profile moved though its owner was never warned")
	}
	decide(t, s, bob, id, map[string]string{"decision": "reject", "note": "We cannot reach the owner on file."}, http.StatusOK)
	c := s.AwaitStatus(id, certdesk.StatusRejected)
	s.RecordHistory(c.WorkflowID, c.RunID, "recovery-notices-undelivered")
}

func TestRecoveryInfoRequestedThenRejected(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	id := verifiedRequest(t, s)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take, and when?"}, http.StatusOK)
	ask := s.AwaitMail("dara.m@proton.example", mail.RecoveryRequestInfo)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)
	if r := s.Do("POST", ask.Link(t), "", stacktest.Form{"reply": {""}}); r.Code != http.StatusBadRequest {
		t.Errorf("an empty reply = %d, want 400", r.Code)
	}
	click(t, s, ask, stacktest.Form{"reply": {"MS-900 in 2019, SC-900 in 2021."}})
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	var cs struct {
		Details certdesk.RecoveryDetails `json:"details"`
	}
	s.Do("GET", "/api/v1/cases/"+id, alice, nil).Decode(t, &cs)
	if len(cs.Details.InfoRequests) != 1 || cs.Details.InfoRequests[0].Reply != "MS-900 in 2019, SC-900 in 2021." {
		t.Errorf("info requests %+v, want the reply on the case", cs.Details.InfoRequests)
	}
	decide(t, s, alice, id, map[string]string{"decision": "reject", "note": "The exams do not match the profile."}, http.StatusOK)
	c := s.AwaitStatus(id, certdesk.StatusRejected)
	if m := s.AwaitMail("dara.m@proton.example", mail.RecoveryRejected); m.CaseID != id {
		t.Errorf("rejection mail %+v", m)
	}
	s.RecordHistory(c.WorkflowID, c.RunID, "recovery-rejected")
}

func TestRecoveryExpiresAndEscalates(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Configure: func(c *config.Config) {
		c.VerifyTTL = 2 * time.Second
		c.AgentSLA = 2 * time.Second
	}})
	// Nobody confirms this one.
	request(t, s, map[string]string{"legal_name": "Nobody Known", "contact_email": "nobody@proton.example",
		"new_account_email": "nobody.new@proton.example", "description": "I lost access."})
	unverified := s.AwaitMail("nobody@proton.example", mail.RecoveryVerify)
	expired := s.AwaitStatus(unverified.CaseID, certdesk.StatusExpired)
	if r := s.Do("POST", unverified.Link(t), "", stacktest.Form{}); r.Code != http.StatusGone {
		t.Errorf("the expired verification link = %d, want 410", r.Code)
	}
	s.RecordHistory(expired.WorkflowID, expired.RunID, "recovery-expired")

	// This one waits for an agent past the SLA.
	id := verifiedRequest(t, s)
	s.AwaitCase(id, "escalated", func(c certdesk.Case) bool { return c.Escalated })
	s.AwaitMail("sam.supervisor@certdesk.example", mail.CaseEscalated)
	decide(t, s, s.Login("sam.supervisor@certdesk.example"), id, map[string]string{"decision": "reject", "note": "Please send the request again with your MCID."}, http.StatusOK)
	c := s.AwaitStatus(id, certdesk.StatusRejected)
	s.RecordHistory(c.WorkflowID, c.RunID, "recovery-escalated-mail-beside")
}

// The worker's schedule runs the sweep: an account unused for two years is
// made inactive and told how to recover, one unused for 23 months reminded.
func TestSweepScheduleRunsTheSweep(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	ctx := context.Background()
	// Created at worker start; creating it again changes nothing.
	if err := worker.EnsureSweepSchedule(ctx, s.Client, s.Config); err != nil {
		t.Fatalf("ensure the schedule again: %v", err)
	}
	h := s.Client.ScheduleClient().GetHandle(ctx, workflows.SweepScheduleID)
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	action, _ := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if action == nil || action.Workflow != "InactivitySweep" || action.TaskQueue != s.Config.TaskQueue || len(desc.Schedule.Spec.Calendars) != 1 {
		t.Fatalf("schedule %+v action %+v", desc.Schedule.Spec, action)
	}

	now := time.Now().UTC()
	for email, last := range map[string]time.Time{
		"idle.two.years@outlook.example": now.AddDate(0, -24, -3),
		"idle.23.months@outlook.example": now.AddDate(0, -23, -3),
	} {
		a := certdesk.Account{Email: email, Kind: certdesk.AccountPersonal, DisplayName: "Idle Learner", LastSignInAt: &last, CreatedAt: last}
		if err := s.Store.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
		t.Fatal(err)
	}
	var run *client.ScheduleWorkflowExecution
	s.Eventually("the triggered sweep", func() bool {
		d, err := h.Describe(ctx)
		if err == nil && len(d.Info.RecentActions) > 0 {
			run = d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult
		}
		return run != nil
	})
	var res workflows.SweepResult
	if err := s.Client.GetWorkflow(ctx, run.WorkflowID, run.FirstExecutionRunID).Get(ctx, &res); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if res.Inactivated != 1 || res.Reminded != 1 || res.Sent != 2 {
		t.Errorf("sweep %+v, want one inactivated, one reminded", res)
	}
	gone := s.AwaitMail("idle.two.years@outlook.example", mail.AccountInactive)
	if !slices.ContainsFunc(gone.Links, func(l mail.Link) bool { return l.URL == s.URL+"/portal/recovery" }) {
		t.Errorf("the inactive notice links %+v, want the recovery form", gone.Links)
	}
	s.AwaitMail("idle.23.months@outlook.example", mail.InactivityReminder)
	if a, _ := s.Store.AccountByEmail(ctx, "idle.two.years@outlook.example"); a.Status != certdesk.AccountInactive {
		t.Errorf("the idle account is %s", a.Status)
	}
	if r := s.Do("POST", "/api/v1/sign-in-events", s.Login("alice.agent@certdesk.example"), map[string]string{"email": "idle.two.years@outlook.example"}); r.Code != http.StatusConflict {
		t.Errorf("sign-in on the account made inactive = %d, want 409", r.Code)
	}
	s.RecordHistory(run.WorkflowID, run.FirstExecutionRunID, "sweep-daily")
}
