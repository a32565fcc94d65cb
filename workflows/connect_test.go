package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// learner is a demo learner as a connect case sees them.
type learner struct {
	lp, account, email string
}

var (
	ana  = learner{store.DemoID("lp:ana"), store.DemoID("account:ana.silva@outlook.example"), "ana.silva@outlook.example"}
	ben  = learner{store.DemoID("lp:ben"), store.DemoID("account:ben.okafor@contoso.example"), "ben.okafor@contoso.example"}
	chen = learner{store.DemoID("lp:chen"), store.DemoID("account:chen.wei@outlook.example"), "chen.wei@outlook.example"}
)

func profileID(mcid string) string { return store.DemoID("profile:" + mcid) }

// connect runs a connect case for a learner to its end.
func (e *env) connect(l learner) (string, workflows.ConnectResult) {
	e.t.Helper()
	id := certdesk.NewID()
	e.ExecuteWorkflow(workflows.Connect, workflows.ConnectInput{CaseID: id, LearningProfileID: l.lp, AccountID: l.account})
	if !e.IsWorkflowCompleted() {
		e.t.Fatal("the workflow did not complete")
	}
	var res workflows.ConnectResult
	if err := e.GetWorkflowError(); err != nil {
		e.t.Fatalf("workflow error: %v", err)
	}
	if err := e.GetWorkflowResult(&res); err != nil {
		e.t.Fatal(err)
	}
	return id, res
}

// expect checks how a case ended, its timeline and the learner's mail.
func (e *env) expect(id string, res workflows.ConnectResult, status certdesk.Status, resolution string, events []string, to string, kinds []string) certdesk.Case {
	e.t.Helper()
	c := e.caseOf(id)
	if res.Status != status || res.Resolution != resolution || c.Status != status || c.Resolution != resolution {
		e.t.Errorf("ended %s/%s (case %s/%s), want %s/%s", res.Status, res.Resolution, c.Status, c.Resolution, status, resolution)
	}
	if got := e.events(id); !slices.Equal(got, events) {
		e.t.Errorf("timeline %v, want %v", got, events)
	}
	var got []string
	for _, m := range e.mails(to) {
		if m.CaseID == id {
			got = append(got, m.Kind)
		}
	}
	if !slices.Equal(got, kinds) {
		e.t.Errorf("mail to %s: %v, want %v", to, got, kinds)
	}
	return c
}

// connectedTo returns the learning profile a profile is connected to.
func (e *env) connectedTo(profile string) string {
	e.t.Helper()
	p, err := e.store.CertificationProfile(context.Background(), profile)
	if err != nil {
		e.t.Fatal(err)
	}
	if p.ConnectedLearningProfileID == nil {
		return ""
	}
	return *p.ConnectedLearningProfileID
}

// details decodes a case's connect details.
func details(t *testing.T, c certdesk.Case) certdesk.ConnectDetails {
	t.Helper()
	var d certdesk.ConnectDetails
	if err := json.Unmarshal(c.Details, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func eventsOf(t *testing.T, e *env, id string) []certdesk.CaseEvent {
	t.Helper()
	evs, err := e.store.Events(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestConnectAnaAtOnce(t *testing.T) {
	e := newEnv(t, "sqlite")
	id, res := e.connect(ana)
	c := e.expect(id, res, certdesk.StatusCompleted, certdesk.ConnectConnected,
		[]string{"opened", "profiles_found", "connected"}, ana.email, []string{mail.ConnectCompleted})
	if e.connectedTo(profileID("100001")) != ana.lp || res.ProfileID != profileID("100001") {
		t.Fatalf("100001 connected to %q (result %q), want Ana's learning profile", e.connectedTo(profileID("100001")), res.ProfileID)
	}
	if c.Subject != "Ana Silva · connect · MCID 100001" || c.LearnerName != "Ana Silva" || c.LearnerEmail != ana.email ||
		strings.Join(c.MCIDs, " ") != "100001" || strings.Join(c.ProfileIDs, " ") != profileID("100001") || c.Requester != certdesk.LearnerActor(ana.account) {
		t.Errorf("case fields: %+v", c)
	}
	d := details(t, c)
	if d.ConnectedMCID != "100001" || len(d.Profiles) != 1 || d.Profiles[0].Found != certdesk.FoundOwned || len(d.Accounts) != 1 {
		t.Errorf("details %+v", d)
	}
	if m := e.mails(ana.email)[0]; !strings.Contains(m.Text, "100001") {
		t.Errorf("the completion email does not name the MCID:\n%s", m.Text)
	}
	evs := eventsOf(t, e, id)
	if evs[0].Actor != certdesk.LearnerActor(ana.account) || evs[2].Actor != certdesk.ActorSystem {
		t.Errorf("actors: opened by %s, connected by %s", evs[0].Actor, evs[2].Actor)
	}
}

func TestConnectEndsWithoutConnecting(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name       string
		setup      func(t *testing.T, e *env)
		status     certdesk.Status
		resolution string
		event      string
		mail       string
	}{
		{"already connected", func(t *testing.T, e *env) {
			if _, err := e.store.Connect(ctx, ana.lp, profileID("100001")); err != nil {
				t.Fatal(err)
			}
		}, certdesk.StatusCompleted, certdesk.ConnectAlreadyConnected, "already_connected", ""}, // nothing changed: no second email
		{"no certification profile", func(t *testing.T, e *env) {
			// Ana's profile belongs to someone else's account now.
			if _, err := e.store.SQL().Exec("UPDATE certification_profiles SET owner_account_id = '" +
				store.DemoID("account:c.wei@gmail.example") + "' WHERE mcid = '100001'"); err != nil {
				t.Fatal(err)
			}
		}, certdesk.StatusRejected, certdesk.ConnectNoProfile, "rejected", mail.ConnectRejected},
		{"connected to another learning profile", func(t *testing.T, e *env) {
			if err := e.store.SetConnectedLearningProfile(ctx, profileID("100001"), store.DemoID("lp:dara")); err != nil {
				t.Fatal(err)
			}
		}, certdesk.StatusRejected, certdesk.ConnectConnectedElsewhere, "rejected", mail.ConnectRejected},
		{"the connection fails for good", func(t *testing.T, e *env) {
			e.OnActivity("ConnectProfile", mock.Anything, mock.Anything).Return(activities.ConnectProfileResult{},
				temporal.NewNonRetryableApplicationError("no such profile", certdesk.ENOTFOUND, nil))
		}, certdesk.StatusFailed, certdesk.ConnectFailed, "failed", mail.ConnectRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			tc.setup(t, e)
			id, res := e.connect(ana)
			events := []string{"opened", "profiles_found", tc.event}
			if tc.event == "already_connected" {
				events = []string{"opened", "already_connected"}
			}
			mails := []string{}
			if tc.mail != "" {
				mails = append(mails, tc.mail)
			}
			c := e.expect(id, res, tc.status, tc.resolution, events, ana.email, mails)
			if tc.mail == mail.ConnectRejected {
				m := e.mails(ana.email)[0]
				if d := details(t, c); d.Reason == "" || !strings.Contains(m.Text, d.Reason) {
					t.Errorf("the rejection email does not say why (%q):\n%s", d.Reason, m.Text)
				}
				if tc.resolution == certdesk.ConnectNoProfile && !strings.Contains(m.Text, "same personal Microsoft account") {
					t.Errorf("no guidance about aligning the accounts:\n%s", m.Text)
				}
			}
		})
	}
}

// The profile gets connected to another learning profile between the
// case's check and the connection: the transaction refuses, the case is
// rejected, and the other connection stands.
func TestConnectLosesTheRaceBetweenCheckAndConnection(t *testing.T) {
	e := newEnv(t, "sqlite")
	dara := store.DemoID("lp:dara")
	e.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "ConnectProfile" {
			if err := e.store.SetConnectedLearningProfile(context.Background(), profileID("100001"), dara); err != nil {
				t.Error(err)
			}
		}
	})
	id, res := e.connect(ana)
	e.expect(id, res, certdesk.StatusRejected, certdesk.ConnectConnectedElsewhere,
		[]string{"opened", "profiles_found", "rejected"}, ana.email, []string{mail.ConnectRejected})
	if got := e.connectedTo(profileID("100001")); got != dara {
		t.Fatalf("100001 connected to %q, want the winner's learning profile", got)
	}
}

// addBensAccount adds Ben's personal account, as the API does.
func (e *env) addBensAccount() string {
	e.t.Helper()
	a, _, err := e.store.AddAccount(context.Background(), ben.lp, "ben.okafor@hotmail.example", certdesk.AccountPersonal, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

// useLink signals the case as the API does when Ben uses his latest link,
// and returns the signal.
func (e *env) useLink(caseID string) workflows.LinkUsed {
	e.t.Helper()
	toks, err := e.store.LiveLinkTokens(context.Background(), caseID)
	if err != nil || len(toks) == 0 {
		e.t.Fatalf("no live link for the case: %v", err)
	}
	tok := toks[len(toks)-1]
	sig := workflows.LinkUsed{TokenID: tok.ID, Step: tok.Step, Purpose: tok.Purpose, Recipient: tok.Recipient}
	e.SignalWorkflow(workflows.SignalLink, sig)
	return sig
}

func TestConnectBenWaitsForHisPersonalAccount(t *testing.T) {
	cases := []struct {
		name string
		// learner runs Ben's part at times after the start.
		learner    func(e *env, id *string)
		status     certdesk.Status
		resolution string
		events     []string
		mails      []string
		// took bounds the case's duration.
		tookAtLeast, tookAtMost time.Duration
	}{
		{name: "adds the account: the API signals",
			learner: func(e *env, _ *string) {
				e.RegisterDelayedCallback(func() { e.SignalWorkflow(workflows.SignalAccountAdded, e.addBensAccount()) }, 2*time.Hour)
			},
			status: certdesk.StatusCompleted, resolution: certdesk.ConnectConnected,
			events:      []string{"opened", "awaiting_learner", "account_added", "profiles_found", "connected"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectCompleted},
			tookAtLeast: 2 * time.Hour, tookAtMost: 3 * time.Hour},
		{name: "adds the account, then uses the email's link",
			learner: func(e *env, id *string) {
				e.RegisterDelayedCallback(func() { e.addBensAccount(); e.useLink(*id) }, 26*time.Hour)
			},
			status: certdesk.StatusCompleted, resolution: certdesk.ConnectConnected,
			events:      []string{"opened", "awaiting_learner", "link_used", "profiles_found", "connected"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectCompleted},
			tookAtLeast: 26 * time.Hour, tookAtMost: 27 * time.Hour},
		{name: "uses the link without adding the account, then adds it",
			learner: func(e *env, id *string) {
				e.RegisterDelayedCallback(func() { e.useLink(*id) }, time.Hour)
				e.RegisterDelayedCallback(func() { e.SignalWorkflow(workflows.SignalAccountAdded, e.addBensAccount()) }, 3*24*time.Hour)
			},
			status: certdesk.StatusCompleted, resolution: certdesk.ConnectConnected,
			events:      []string{"opened", "awaiting_learner", "link_used", "awaiting_learner", "account_added", "profiles_found", "connected"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectAddAccount, mail.ConnectCompleted},
			tookAtLeast: 3 * 24 * time.Hour, tookAtMost: 3*24*time.Hour + time.Hour},
		{name: "never adds it: expires after 14 days",
			status: certdesk.StatusExpired, resolution: certdesk.ConnectExpired,
			events:      []string{"opened", "awaiting_learner", "expired"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectExpired},
			tookAtLeast: 14 * 24 * time.Hour, tookAtMost: 14*24*time.Hour + time.Minute},
		{name: "uses the link without adding the account: the second wait ends at the same deadline",
			learner: func(e *env, id *string) {
				e.RegisterDelayedCallback(func() { e.useLink(*id) }, 5*24*time.Hour)
			},
			status: certdesk.StatusExpired, resolution: certdesk.ConnectExpired,
			events:      []string{"opened", "awaiting_learner", "link_used", "awaiting_learner", "expired"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectAddAccount, mail.ConnectExpired},
			tookAtLeast: 14 * 24 * time.Hour, tookAtMost: 14*24*time.Hour + time.Minute},
		{name: "the same link signalled twice counts once",
			learner: func(e *env, id *string) {
				var sig workflows.LinkUsed
				e.RegisterDelayedCallback(func() { sig = e.useLink(*id) }, time.Hour)
				e.RegisterDelayedCallback(func() { e.SignalWorkflow(workflows.SignalLink, sig) }, 2*time.Hour)
				e.RegisterDelayedCallback(func() {
					e.SignalWorkflow(workflows.SignalLink, workflows.LinkUsed{TokenID: "other", Purpose: workflows.PurposeReply})
				}, 3*time.Hour)
			},
			status: certdesk.StatusExpired, resolution: certdesk.ConnectExpired,
			events:      []string{"opened", "awaiting_learner", "link_used", "awaiting_learner", "expired"},
			mails:       []string{mail.ConnectAddAccount, mail.ConnectAddAccount, mail.ConnectExpired},
			tookAtLeast: 14 * 24 * time.Hour, tookAtMost: 14*24*time.Hour + time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			id := certdesk.NewID()
			if tc.learner != nil {
				tc.learner(e, &id)
			}
			start := e.Now()
			e.ExecuteWorkflow(workflows.Connect, workflows.ConnectInput{CaseID: id, LearningProfileID: ben.lp, AccountID: ben.account})
			if !e.IsWorkflowCompleted() || e.GetWorkflowError() != nil {
				t.Fatalf("workflow: completed %v, %v", e.IsWorkflowCompleted(), e.GetWorkflowError())
			}
			var res workflows.ConnectResult
			if err := e.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			took := e.Now().Sub(start)
			if took < tc.tookAtLeast || took > tc.tookAtMost {
				t.Errorf("the case took %v, want %v to %v", took, tc.tookAtLeast, tc.tookAtMost)
			}
			e.expect(id, res, tc.status, tc.resolution, tc.events, ben.email, tc.mails)

			// Each wait emailed a new link under its own step, and every
			// wait ends at the deadline the first one set.
			var deadlines []string
			for _, ev := range eventsOf(t, e, id) {
				var d struct{ Until string }
				if ev.Type == "awaiting_learner" && json.Unmarshal(ev.Data, &d) == nil {
					deadlines = append(deadlines, d.Until)
				}
				if ev.Type == "account_added" || ev.Type == "link_used" {
					if ev.Actor != certdesk.LearnerActor(ben.account) {
						t.Errorf("%s by %s, want Ben", ev.Type, ev.Actor)
					}
				}
			}
			if len(slices.Compact(slices.Clone(deadlines))) != 1 {
				t.Errorf("the waits end at %v, want one deadline", deadlines)
			}
			round := 0
			for _, m := range e.mails(ben.email) {
				if m.Kind != mail.ConnectAddAccount {
					continue
				}
				round++
				if m.Step != "add-account-"+strconv.Itoa(round) || !strings.Contains(string(m.Links), "/l/") {
					t.Errorf("add-account email %d: step %q, links %s", round, m.Step, m.Links)
				}
			}
			connected := e.connectedTo(profileID("100002")) == ben.lp
			if connected != (tc.status == certdesk.StatusCompleted) {
				t.Errorf("100002 connected to Ben: %v, want %v", connected, !connected)
			}
		})
	}
}

// Chen's two profiles are merged by a child merge case (mocked here: the
// merge workflow is its own case kind); the connect case continues with the
// survivor, or ends as the merge ended.
func TestConnectChenRunsAMergeFirst(t *testing.T) {
	cases := []struct {
		name string
		// merge is what the child merge case does.
		merge      func(e *env, in workflows.MergeInput) (workflows.MergeResult, error)
		status     certdesk.Status
		resolution string
		last       string
		mail       string
		connected  string // the MCID connected to Chen's learning profile
	}{
		{name: "merged into 100003",
			merge: func(e *env, in workflows.MergeInput) (workflows.MergeResult, error) {
				return workflows.MergeResult{Status: certdesk.StatusCompleted, Resolution: "merged", SurvivorID: profileID("100003")}, nil
			},
			status: certdesk.StatusCompleted, resolution: certdesk.ConnectConnected, last: "connected", mail: mail.ConnectCompleted, connected: "100003"},
		{name: "merged into 100004, which c.wei@gmail owns: the survivor of Chen's profile",
			merge: func(e *env, in workflows.MergeInput) (workflows.MergeResult, error) {
				if _, err := e.store.SQL().Exec("UPDATE certification_profiles SET status = 'merged', merged_into_id = '" +
					profileID("100004") + "' WHERE id = '" + profileID("100003") + "'"); err != nil {
					return workflows.MergeResult{}, err
				}
				return workflows.MergeResult{Status: certdesk.StatusCompleted, Resolution: "merged", SurvivorID: profileID("100004")}, nil
			},
			status: certdesk.StatusCompleted, resolution: certdesk.ConnectConnected, last: "connected", mail: mail.ConnectCompleted, connected: "100004"},
		{name: "merge rejected by the agent",
			merge: func(e *env, in workflows.MergeInput) (workflows.MergeResult, error) {
				return workflows.MergeResult{Status: certdesk.StatusRejected, Resolution: "rejected"}, nil
			},
			status: certdesk.StatusRejected, resolution: certdesk.ConnectMergeRejected, last: "rejected", mail: mail.ConnectRejected},
		{name: "merge case failed",
			merge: func(e *env, in workflows.MergeInput) (workflows.MergeResult, error) {
				return workflows.MergeResult{}, errors.New("the merge broke")
			},
			status: certdesk.StatusFailed, resolution: certdesk.ConnectMergeFailed, last: "failed", mail: mail.ConnectRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			var got workflows.MergeInput
			var childID string
			e.OnWorkflow(workflows.Merge, mock.Anything, mock.Anything).Return(
				func(ctx workflow.Context, in workflows.MergeInput) (workflows.MergeResult, error) {
					got, childID = in, workflow.GetInfo(ctx).WorkflowExecution.ID
					return tc.merge(e, in)
				})
			id, res := e.connect(chen)
			c := e.expect(id, res, tc.status, tc.resolution,
				[]string{"opened", "profiles_found", "merge_started", "merge_finished", tc.last}, chen.email, []string{tc.mail})

			want := workflows.MergeInput{CaseID: got.CaseID, ProfileIDs: []string{profileID("100003"), profileID("100004")},
				RequestedBy: certdesk.LearnerActor(chen.account), ParentCaseID: id, LearningProfileID: chen.lp, AccountID: chen.account,
				AgentSLA: workflows.Duration(certdesk.DefaultAgentSLA)}
			if !certdesk.ValidID(got.CaseID) || childID != workflows.MergeWorkflowID(got.CaseID) || !slices.Equal(got.ProfileIDs, want.ProfileIDs) ||
				got.RequestedBy != want.RequestedBy || got.ParentCaseID != id || got.LearningProfileID != chen.lp || got.AccountID != chen.account || got.AgentSLA != want.AgentSLA ||
				!slices.Equal(got.Owners, []string{chen.account}) {
				t.Errorf("merge started as %s with %+v, want %+v", childID, got, want)
			}
			d := details(t, c)
			if d.MergeCaseID != got.CaseID || res.MergeCaseID != got.CaseID || len(d.Profiles) != 2 {
				t.Fatalf("details %+v, result %+v: want the merge case and both profiles", d, res)
			}
			for _, p := range d.Profiles {
				want := map[bool]string{true: certdesk.FoundOwned, false: certdesk.FoundDuplicate}[p.MCID == "100003"]
				if p.MCID == tc.connected {
					want = certdesk.FoundSurvivor
				}
				if p.Found != want {
					t.Errorf("profile %s shown as %s, want %s", p.MCID, p.Found, want)
				}
			}
			if strings.Join(c.MCIDs, " ") != "100003 100004" || c.Subject != "Chen Wei · connect · MCID 100003, 100004" {
				t.Errorf("case MCIDs %q, subject %q", c.MCIDs, c.Subject)
			}
			var connected string
			for _, m := range []string{"100003", "100004"} {
				if e.connectedTo(profileID(m)) == chen.lp {
					connected = m
				}
			}
			if connected != tc.connected {
				t.Errorf("connected %q to Chen, want %q", connected, tc.connected)
			}
		})
	}
}
