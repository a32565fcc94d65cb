package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The desk's lookups on each dialect: the learner beside a case (accounts,
// profiles, other cases), profiles by MCID, name or email, the cases about
// a profile.
func TestLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		lp := store.DemoID("lp:chen")
		open := func(c certdesk.Case) certdesk.Case {
			t.Helper()
			c.ID, c.Requester, c.WorkflowID = certdesk.NewID(), certdesk.ActorSystem, "wf-"+certdesk.NewID()
			if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		merge := open(certdesk.Case{Kind: certdesk.KindMerge, LearnerEmail: "chen.wei@outlook.example",
			ProfileIDs: []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}, MCIDs: []string{"100003", "100004"}})
		connect := open(certdesk.Case{Kind: certdesk.KindConnect, LearningProfileID: &lp, ProfileIDs: []string{store.DemoID("profile:100004")}})
		other := open(certdesk.Case{Kind: certdesk.KindInquiry, LearnerEmail: "someone@else.example"})

		f, err := s.LearnerOf(ctx, connect)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Accounts) == 0 || f.Accounts[0].Email != "chen.wei@outlook.example" {
			t.Errorf("accounts %+v", f.Accounts)
		}
		if len(f.Cases) != 1 || f.Cases[0].ID != merge.ID {
			t.Errorf("other cases %+v, want the merge only", f.Cases)
		}
		mcids := map[string]bool{}
		for _, p := range f.Profiles {
			mcids[p.MCID] = true
		}
		if !mcids["100003"] || !mcids["100004"] { // owned, and named by the merge
			t.Errorf("profiles %v", mcids)
		}
		if f, err := s.LearnerOf(ctx, other); err != nil || len(f.Cases) != 0 {
			t.Errorf("a stranger's file: %+v %v", f, err)
		}

		for q, want := range map[string]string{"100004": "100004", "CHEN w": "100003", "c.wei@gmail": "100004"} {
			ps, err := s.FindProfiles(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range ps {
				found = found || p.MCID == want
			}
			if !found {
				t.Errorf("FindProfiles(%q) = %+v, want MCID %s", q, ps, want)
			}
		}
		if ps, err := s.FindProfiles(ctx, "100%"); err != nil || len(ps) != 0 {
			t.Errorf("a wildcard matched %d profiles (%v)", len(ps), err)
		}

		p, err := s.CertificationProfileByMCID(ctx, "100003")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := s.CasesOfProfile(ctx, p)
		if err != nil || len(cs) != 1 || cs[0].ID != merge.ID {
			t.Errorf("cases of MCID 100003: %+v %v", cs, err)
		}
		if _, err := s.ProfileHistory(ctx, p.ID); err != nil {
			t.Errorf("history: %v", err)
		}
	})
}

// AssignedTo lists the cases someone else assigned to an agent since a
// time, while they are still theirs; not the agent's own claims.
func TestAssignedTo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		alice, sam := store.DemoID("agent:alice.agent@certdesk.example"), store.DemoID("agent:sam.supervisor@certdesk.example")
		bob := store.DemoID("agent:bob.agent@certdesk.example")
		since := time.Now().Add(-time.Minute)
		assign := func(by, to string, typ certdesk.EventType) certdesk.Case {
			t.Helper()
			c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Subject: "case by " + by, Requester: certdesk.ActorSystem, WorkflowID: "wf-" + certdesk.NewID()}
			if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: c.ID, Assignee: &to, Event: store.Event{Actor: certdesk.AgentActor(by), Type: typ}}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		byself := assign(alice, alice, certdesk.EventClaimed)
		bySam := assign(sam, alice, certdesk.EventAssigned)
		moved := assign(sam, alice, certdesk.EventAssigned)
		if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: moved.ID, Assignee: &bob, Event: store.Event{Actor: certdesk.AgentActor(sam), Type: certdesk.EventAssigned}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.AssignedTo(ctx, alice, since)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Case.ID != bySam.ID || got[0].By != certdesk.AgentActor(sam) {
			t.Errorf("assigned to Alice: %+v (not %s, her own claim)", got, byself.ID)
		}
		if got, _ := s.AssignedTo(ctx, alice, time.Now().Add(time.Minute)); len(got) != 0 {
			t.Errorf("since later: %+v", got)
		}
	})
}
