package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// Each demo learner's connect case through the HTTP API, on the whole
// embedded stack with the store on PostgreSQL.

func start(t *testing.T, configure ...func(*config.Config)) *stacktest.Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Configure: func(c *config.Config) {
		for _, f := range configure {
			f(c)
		}
	}})
	// The tests of this process share one Temporal server, and a connect
	// workflow's id is its learning profile's (the demo ids are fixed): a
	// case a failed test left waiting must not answer the next test's
	// request. (Cleanups run last-in first-out: this one before the stack's.)
	t.Cleanup(func() {
		for _, who := range []string{"ana", "ben", "chen", "dara"} {
			_ = s.Client.TerminateWorkflow(context.Background(), workflows.ConnectWorkflowID(store.DemoID("lp:"+who)), "", "end of test")
		}
	})
	return s
}

// finish waits for a case's workflow run to close, and records its history
// for the replay tests (with CERTDESK_RECORD_HISTORIES=1).
func finish(t *testing.T, s *stacktest.Stack, c certdesk.Case, history string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Client.GetWorkflow(ctx, c.WorkflowID, c.RunID).Get(ctx, nil); err != nil {
		t.Fatalf("workflow of case %s: %v", c.ID, err)
	}
	s.RecordHistory(c.WorkflowID, c.RunID, history)
}

// mergeChild waits for a connect case to start its merge child and returns
// the merge case's id, once the merge awaits an agent.
func mergeChild(t *testing.T, s *stacktest.Stack, connectID string) string {
	t.Helper()
	var mergeID string
	s.AwaitCase(connectID, "running a merge", func(cs certdesk.Case) bool {
		var d certdesk.ConnectDetails
		_ = json.Unmarshal(cs.Details, &d)
		mergeID = d.MergeCaseID
		return mergeID != "" || cs.Status.Terminal()
	})
	if mergeID == "" {
		cs, _ := s.Store.Case(context.Background(), connectID)
		t.Fatalf("the connect case ended %s/%s without a merge", cs.Status, cs.Resolution)
	}
	s.Eventually("the merge case awaiting an agent", func() bool {
		if cs, _ := s.Store.Case(context.Background(), connectID); cs.Status.Terminal() {
			t.Fatalf("the connect case ended %s/%s while its merge case should await an agent", cs.Status, cs.Resolution)
		}
		m, err := s.Store.Case(context.Background(), mergeID)
		return err == nil && m.Status == certdesk.StatusAwaitingAgent
	})
	return mergeID
}

// requestConnect asks to connect as the signed-in learner; a new case is 202.
func requestConnect(t *testing.T, s *stacktest.Stack, token string) certdesk.Case {
	t.Helper()
	r := s.Do("POST", "/api/v1/connect-requests", token, nil)
	if r.Code != http.StatusAccepted {
		t.Fatalf("connect request = %d %s, want 202", r.Code, r.Body)
	}
	var c certdesk.Case
	r.Decode(t, &c)
	if c.Kind != certdesk.KindConnect || !certdesk.ValidID(c.ID) {
		t.Fatalf("connect request answered %s", r.Body)
	}
	return c
}

// timeline returns a case's events as the learner sees them.
func timeline(t *testing.T, s *stacktest.Stack, token, id string) []certdesk.CaseEvent {
	t.Helper()
	var out struct{ Items []certdesk.CaseEvent }
	r := s.Do("GET", "/api/v1/cases/"+id+"/events", token, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("events = %d %s", r.Code, r.Body)
	}
	r.Decode(t, &out)
	return out.Items
}

// expectTimeline checks a timeline's event types and who did each.
func expectTimeline(t *testing.T, evs []certdesk.CaseEvent, want [][2]string) {
	t.Helper()
	var got, exp []string
	for _, e := range evs {
		got = append(got, string(e.Type)+" by "+string(e.Actor))
	}
	for _, w := range want {
		exp = append(exp, w[0]+" by "+w[1])
	}
	if !slices.Equal(got, exp) {
		t.Errorf("timeline:\n got  %q\n want %q", got, exp)
	}
}

// expectConnected checks the store's final state, the learner's view and
// the completion email.
func expectConnected(t *testing.T, s *stacktest.Stack, token, lp, mcid, email string) {
	t.Helper()
	p, err := s.Store.CertificationProfileByMCID(context.Background(), mcid)
	if err != nil {
		t.Fatal(err)
	}
	if p.ConnectedLearningProfileID == nil || *p.ConnectedLearningProfileID != lp || p.ConnectedAt == nil {
		t.Fatalf("MCID %s connected to %v, want %s", mcid, p.ConnectedLearningProfileID, lp)
	}
	var me struct {
		LearningProfile struct {
			ConnectedProfileID string `json:"connected_profile_id"`
		} `json:"learning_profile"`
	}
	s.Do("GET", "/api/v1/me", token, nil).Decode(t, &me)
	if me.LearningProfile.ConnectedProfileID != p.ID {
		t.Errorf("/me shows connected profile %q, want %s", me.LearningProfile.ConnectedProfileID, p.ID)
	}
	if m := s.AwaitMail(email, "connect_completed"); !strings.Contains(m.Text, mcid) {
		t.Errorf("the completion email does not name MCID %s:\n%s", mcid, m.Text)
	}
}

// awaitEnd waits for a case to end with a status and resolution.
func awaitEnd(t *testing.T, s *stacktest.Stack, id string, status certdesk.Status, resolution string) certdesk.Case {
	t.Helper()
	c := s.AwaitCase(id, "ended", func(c certdesk.Case) bool { return c.Status.Terminal() })
	if c.Status != status || c.Resolution != resolution {
		t.Fatalf("case ended %s/%s, want %s/%s", c.Status, c.Resolution, status, resolution)
	}
	return c
}

// awaitMailStep waits for the message of a case step.
func awaitMailStep(s *stacktest.Stack, to, caseID, step string) stacktest.Mail {
	s.T.Helper()
	var found stacktest.Mail
	s.Eventually("mail "+step+" of case "+caseID, func() bool {
		var list struct{ Items []stacktest.Mail }
		s.Do("GET", "/api/v1/dev/mail?to="+url.QueryEscape(to)+"&case="+caseID, "", nil).Decode(s.T, &list)
		for _, m := range list.Items {
			if m.Step == step {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func TestConnectAnaAtOnce(t *testing.T) {
	s := start(t)
	token := s.Login("ana.silva@outlook.example")
	c := requestConnect(t, s, token)
	done := awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
	if strings.Join(done.MCIDs, " ") != "100001" || done.Subject != "Ana Silva · connect · MCID 100001" {
		t.Errorf("case MCIDs %q, subject %q", done.MCIDs, done.Subject)
	}
	expectConnected(t, s, token, store.DemoID("lp:ana"), "100001", "ana.silva@outlook.example")
	ana := "learner:" + store.DemoID("account:ana.silva@outlook.example")
	expectTimeline(t, timeline(t, s, token, c.ID), [][2]string{{"opened", ana}, {"profiles_found", "system"}, {"connected", "system"}})
	finish(t, s, done, "connect-ana-at-once")

	// Asking again once connected: a new case, completed at once.
	again := requestConnect(t, s, token)
	if again.ID == c.ID {
		t.Fatal("asking again after the end answered the old case")
	}
	done = awaitEnd(t, s, again.ID, certdesk.StatusCompleted, certdesk.ConnectAlreadyConnected)
	expectTimeline(t, timeline(t, s, token, again.ID), [][2]string{{"opened", ana}, {"already_connected", "system"}})
	finish(t, s, done, "connect-ana-already-connected-quietly")
}

// Ana's profile is connected to another learning profile: rejected, with
// what to do, and nothing changes.
func TestConnectRejectedWhenConnectedElsewhere(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	p, _ := s.Store.CertificationProfileByMCID(ctx, "100001")
	dara := store.DemoID("lp:dara")
	if err := s.Store.SetConnectedLearningProfile(ctx, p.ID, dara); err != nil {
		t.Fatal(err)
	}
	token := s.Login("ana.silva@outlook.example")
	c := requestConnect(t, s, token)
	done := awaitEnd(t, s, c.ID, certdesk.StatusRejected, certdesk.ConnectConnectedElsewhere)
	if m := s.AwaitMail("ana.silva@outlook.example", "connect_rejected"); !strings.Contains(m.Text, "another learning profile") {
		t.Errorf("rejection email:\n%s", m.Text)
	}
	if p, _ = s.Store.CertificationProfileByMCID(ctx, "100001"); p.ConnectedLearningProfileID == nil || *p.ConnectedLearningProfileID != dara {
		t.Fatalf("100001 connected to %v, want Dara's learning profile still", p.ConnectedLearningProfileID)
	}
	finish(t, s, done, "connect-rejected-connected-elsewhere")
}

const (
	benWork     = "ben.okafor@contoso.example"
	benPersonal = "ben.okafor@hotmail.example"
)

// Ben signs in with work: the case waits until he adds his personal
// account through the API, which resumes it.
func TestConnectBenAddsHisPersonalAccount(t *testing.T) {
	s := start(t)
	token := s.Login(benWork)
	lp := store.DemoID("lp:ben")
	c := requestConnect(t, s, token)
	waiting := s.AwaitStatus(c.ID, certdesk.StatusAwaitingLearner)
	var d certdesk.ConnectDetails
	if err := json.Unmarshal(waiting.Details, &d); err != nil || d.WaitingFor != certdesk.WaitPersonalAccount || d.WaitUntil == nil {
		t.Fatalf("details while waiting: %s (%v)", waiting.Details, err)
	}
	addMail := s.AwaitMail(benWork, "connect_add_account")
	if addMail.CaseID != c.ID || len(addMail.Links) == 0 {
		t.Fatalf("add-account email %+v", addMail)
	}

	r := s.Do("POST", "/api/v1/learning-profiles/"+lp+"/accounts", token, map[string]string{"email": benPersonal, "kind": "personal"})
	if r.Code != http.StatusCreated {
		t.Fatalf("add account = %d %s", r.Code, r.Body)
	}
	done := awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
	expectConnected(t, s, token, lp, "100002", benWork)
	ben := "learner:" + store.DemoID("account:"+benWork)
	expectTimeline(t, timeline(t, s, token, c.ID), [][2]string{{"opened", ben}, {"awaiting_learner", "system"},
		{"account_added", ben}, {"profiles_found", "system"}, {"connected", "system"}})
	finish(t, s, done, "connect-ben-add-account")

	// The personal account's owner is told where it was added.
	if m := s.AwaitMail(benPersonal, mail.AccountAdded); !strings.Contains(m.Text, benWork) || !strings.Contains(m.Text, "/portal/recovery") {
		t.Errorf("the account-added email does not say where, or how to get help:\n%s", m.Text)
	}
	// The "I've added it" link of the ended case says so at once, on GET,
	// and leads back to the portal; it changes nothing.
	link := addMail.Link(t)
	for range 2 {
		r := s.Do("GET", link, "", nil)
		if r.Code != http.StatusGone || !strings.Contains(string(r.Body), "the case ended") || !strings.Contains(string(r.Body), `href="/portal"`) {
			t.Errorf("GET the link of an ended case = %d:\n%s", r.Code, r.Body)
		}
	}
}

// Ben never adds the account: the case expires (the wait is shortened).
func TestConnectBenExpires(t *testing.T) {
	s := start(t, func(c *config.Config) { c.LearnerWait = 1500 * time.Millisecond })
	token := s.Login(benWork)
	c := requestConnect(t, s, token)
	awaitMailStep(s, benWork, c.ID, "add-account-1")
	done := awaitEnd(t, s, c.ID, certdesk.StatusExpired, certdesk.ConnectExpired)
	s.AwaitMail(benWork, "connect_expired")
	ben := "learner:" + store.DemoID("account:"+benWork)
	expectTimeline(t, timeline(t, s, token, c.ID), [][2]string{{"opened", ben}, {"awaiting_learner", "system"}, {"expired", "system"}})
	if p, _ := s.Store.CertificationProfileByMCID(context.Background(), "100002"); p.ConnectedLearningProfileID != nil {
		t.Fatalf("100002 connected to %v", *p.ConnectedLearningProfileID)
	}
	finish(t, s, done, "connect-ben-expired")
}

// Ben uses the email's "I've added it" link before adding the account (the
// case emails him again and keeps waiting), then adds it where certdesk is
// not told (straight in the store, as the learning site would) and uses the
// new email's link.
func TestConnectBenUsesTheEmailLink(t *testing.T) {
	s := start(t)
	token := s.Login(benWork)
	lp := store.DemoID("lp:ben")
	c := requestConnect(t, s, token)
	first := awaitMailStep(s, benWork, c.ID, "add-account-1")
	before := s.AwaitStatus(c.ID, certdesk.StatusAwaitingLearner)

	// A mail scanner opens the link: nothing happens.
	if r := s.Do("GET", first.Link(t), "", nil); r.Code != http.StatusOK {
		t.Fatalf("GET link = %d", r.Code)
	}
	if r := s.Do("HEAD", first.Link(t), "", nil); r.Code != http.StatusOK {
		t.Fatalf("HEAD link = %d", r.Code)
	}
	if now, _ := s.Store.Case(context.Background(), c.ID); now.Version != before.Version {
		t.Fatalf("opening the link changed the case (version %d -> %d)", before.Version, now.Version)
	}

	if r := s.Do("POST", first.Link(t), "", stacktest.Form{}); r.Code != http.StatusOK {
		t.Fatalf("POST link = %d %s", r.Code, r.Body)
	}
	second := awaitMailStep(s, benWork, c.ID, "add-account-2")
	s.AwaitStatus(c.ID, certdesk.StatusAwaitingLearner)
	if r := s.Do("POST", first.Link(t), "", stacktest.Form{}); r.Code != http.StatusGone {
		t.Fatalf("using the first link again = %d, want 410", r.Code)
	}

	if _, _, err := s.Store.AddAccount(context.Background(), lp, benPersonal, certdesk.AccountPersonal, ""); err != nil {
		t.Fatal(err)
	}
	if r := s.Do("POST", second.Link(t), "", stacktest.Form{}); r.Code != http.StatusOK {
		t.Fatalf("POST second link = %d %s", r.Code, r.Body)
	} else if page := string(r.Body); !strings.Contains(page, "Your case is moving on") && !strings.Contains(page, "Done: your case is complete") {
		// The page answers with where the link led (the case takes it
		// and moves on), not after the connection it starts, though
		// the connection may have finished by the time it asks.
		t.Errorf("the link's page = %s", r.Body)
	}
	done := awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
	expectConnected(t, s, token, lp, "100002", benWork)
	ben := "learner:" + store.DemoID("account:"+benWork)
	expectTimeline(t, timeline(t, s, token, c.ID), [][2]string{{"opened", ben}, {"awaiting_learner", "system"},
		{"link_used", ben}, {"awaiting_learner", "system"}, {"link_used", ben}, {"profiles_found", "system"}, {"connected", "system"}})
	finish(t, s, done, "connect-ben-link")
}

// Chen has two profiles: the connect case runs a merge case as its child;
// an agent approves it (the learner asked, so any agent may), and the
// connect case connects the survivor. Needs workflows.Merge (its own issue).
func TestConnectChenMergesThenConnects(t *testing.T) {
	s := start(t)
	token := s.Login("chen.wei@outlook.example")
	lp := store.DemoID("lp:chen")
	c := requestConnect(t, s, token)
	mergeID := mergeChild(t, s, c.ID)

	bob := s.Login("bob.agent@certdesk.example")
	r := s.Do("POST", "/api/v1/cases/"+mergeID+"/decision", bob, map[string]string{"decision": "approve", "note": "same person: same name and email"})
	if r.Code != http.StatusOK {
		t.Fatalf("approve the merge = %d %s", r.Code, r.Body)
	}
	done := awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
	merge, _ := s.Store.Case(context.Background(), mergeID)
	if merge.Status != certdesk.StatusCompleted || merge.ParentCaseID == nil || *merge.ParentCaseID != c.ID {
		t.Fatalf("merge case %s with parent %v, want completed, child of %s", merge.Status, merge.ParentCaseID, c.ID)
	}
	survivor, err := s.Store.ConnectedProfile(context.Background(), lp)
	if err != nil {
		t.Fatalf("Chen's learning profile has no connected profile: %v", err)
	}
	// The seed's rule: he connects the profile his sign-in owns (100003,
	// owned by chen.wei@outlook.example), not the older one another
	// account owns; the merge's preview said why.
	var mergeJSON struct {
		Details struct {
			TargetMCID   string `json:"target_mcid"`
			TargetReason string `json:"target_reason"`
		} `json:"details"`
	}
	s.Do("GET", "/api/v1/cases/"+mergeID, bob, nil).Decode(t, &mergeJSON)
	md := mergeJSON.Details
	if survivor.MCID != "100003" || md.TargetMCID != "100003" || md.TargetReason != certdesk.TargetOwned {
		t.Errorf("connected MCID %s; merge target %s because %q; want 100003, owned", survivor.MCID, md.TargetMCID, md.TargetReason)
	}
	expectConnected(t, s, token, lp, survivor.MCID, "chen.wei@outlook.example")
	for _, mcid := range []string{"100003", "100004"} {
		p, _ := s.Store.CertificationProfileByMCID(context.Background(), mcid)
		if p.ID != survivor.ID && (p.Status != certdesk.ProfileMerged || p.MergedIntoID == nil || *p.MergedIntoID != survivor.ID) {
			t.Errorf("MCID %s is %s (merged into %v), want merged into the survivor", mcid, p.Status, p.MergedIntoID)
		}
	}
	chen := "learner:" + store.DemoID("account:chen.wei@outlook.example")
	expectTimeline(t, timeline(t, s, token, c.ID), [][2]string{{"opened", chen}, {"profiles_found", "system"},
		{"merge_started", "system"}, {"merge_finished", "system"}, {"connected", "system"}})
	finish(t, s, done, "connect-chen-merge-into-owned")

	// His portal shows it connected and offers no Connect; asking again
	// completes at once (already connected) without a second email.
	if r := s.Do("GET", "/portal", token, nil); !strings.Contains(string(r.Body), "is connected to your learning profile") ||
		strings.Contains(string(r.Body), "Connect my certification profile") {
		t.Errorf("Chen's portal after the connection:\n%s", r.Body)
	}
	again := requestConnect(t, s, token)
	awaitEnd(t, s, again.ID, certdesk.StatusCompleted, certdesk.ConnectAlreadyConnected)
	mails := 0
	sent, _ := s.Store.CapturedMails(context.Background(), "chen.wei@outlook.example", "", 100)
	for _, m := range sent {
		if m.Kind == mail.ConnectCompleted {
			mails++
		}
	}
	if mails != 1 {
		t.Errorf("Chen got %d \"is connected\" emails, want 1", mails)
	}
}
