package e2e_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// The branches the other end-to-end tests do not reach, walked through the
// API so that their histories can be recorded for the replay suite
// (CERTDESK_RECORD_HISTORIES=1): every branch of every workflow has a
// committed history, and a change that would break a case in flight on it
// fails in CI.

// newLearner makes a learner with a personal account on a learning profile
// and the given certification profiles (legal names), all owned by it.
func newLearner(t *testing.T, s *stacktest.Stack, email string, names ...string) (lp string, profiles []string) {
	t.Helper()
	ctx := context.Background()
	l := certdesk.LearningProfile{DisplayName: "Eve Stone"}
	if err := s.Store.CreateLearningProfile(ctx, &l); err != nil {
		t.Fatal(err)
	}
	a := certdesk.Account{Email: email, Kind: certdesk.AccountPersonal, DisplayName: "Eve Stone", LearningProfileID: &l.ID}
	if err := s.Store.CreateAccount(ctx, &a); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		p := certdesk.CertificationProfile{MCID: "70000" + string(rune('1'+i)), LegalName: name, Email: email, OwnerAccountID: &a.ID,
			CreatedAt: time.Now().AddDate(-i-1, 0, 0)}
		if err := s.Store.CreateCertificationProfile(ctx, &p); err != nil {
			t.Fatal(err)
		}
		profiles = append(profiles, p.ID)
	}
	return l.ID, profiles
}

// record waits for a case's run to close and records its history.
func record(t *testing.T, s *stacktest.Stack, caseID, history string) {
	t.Helper()
	c, err := s.Store.Case(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, s, c, history)
}

// A learner whose personal accounts own no certification profile: the
// connect case is rejected with the guidance to align the accounts.
func TestHistoryConnectRejectedNoProfile(t *testing.T) {
	s := start(t)
	newLearner(t, s, "eve.stone@outlook.example")
	c := requestConnect(t, s, s.Login("eve.stone@outlook.example"))
	done := awaitEnd(t, s, c.ID, certdesk.StatusRejected, certdesk.ConnectNoProfile)
	if m := awaitMailStep(s, "eve.stone@outlook.example", c.ID, "rejected"); m.Kind != mail.ConnectRejected {
		t.Errorf("rejection mail %+v", m)
	}
	finish(t, s, done, "connect-rejected-no-profile")
}

// Chen's connect case runs a merge of his duplicates as its child; the
// agent rejects it, and the connect case is rejected too (only one profile
// can be connected). Both runs are recorded; so is the child run of an
// approved merge.
func TestHistoryConnectChenMergeRejectedOrApproved(t *testing.T) {
	for _, approve := range []bool{false, true} {
		t.Run(map[bool]string{false: "rejected", true: "approved"}[approve], func(t *testing.T) {
			s := start(t)
			c := requestConnect(t, s, s.Login(chenEmail))
			mergeID := mergeChild(t, s, c.ID)
			bob := s.Login("bob.agent@certdesk.example")
			if approve {
				decide(t, s, bob, mergeID, map[string]string{"decision": "approve"}, http.StatusOK)
				awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
				record(t, s, mergeID, "merge-child-approved")
				return
			}
			decide(t, s, bob, mergeID, map[string]string{"decision": "reject", "note": "the names differ on the documents"}, http.StatusOK)
			awaitEnd(t, s, mergeID, certdesk.StatusRejected, certdesk.MergeRejectedByAgent)
			done := awaitEnd(t, s, c.ID, certdesk.StatusRejected, certdesk.ConnectMergeRejected)
			finish(t, s, done, "connect-chen-merge-rejected")
			record(t, s, mergeID, "merge-child-rejected")
		})
	}
}

// The profiles change while the merge waits (the source is connected
// meanwhile): the approval cannot be carried out, the case ends rejected
// as not mergeable and the learner is told why.
func TestHistoryMergeNotMergeableAtApproval(t *testing.T) {
	s := start(t)
	chen := s.Login(chenEmail)
	opened := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	if err := s.Store.SetConnectedLearningProfile(context.Background(), p3, store.DemoID("lp:chen")); err != nil {
		t.Fatal(err)
	}
	decide(t, s, s.Login("alice.agent@certdesk.example"), opened.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	awaitEnd(t, s, opened.ID, certdesk.StatusRejected, certdesk.MergeNotMergeable)
	if m := awaitMailStep(s, chenEmail, opened.ID, "rejected"); m.Kind != mail.MergeRejected {
		t.Errorf("mail %+v", m)
	}
	record(t, s, opened.ID, "merge-not-mergeable")
}

// Two merges of the same profiles at once: one Chen asked for, one his
// connect case started. The first approved, the second's approval finds
// its profiles merged meanwhile: not mergeable. (Two requests of the same
// profiles no longer make two cases — the second joins the first — so the
// already_merged branch is now a narrow race; its history recorded before,
// merge-already-merged.json, stays in the replay corpus.)
func TestHistoryMergeOfProfilesMergedMeanwhile(t *testing.T) {
	s := start(t)
	chen := s.Login(chenEmail)
	first := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})
	second := mergeChild(t, s, requestConnect(t, s, chen).ID)
	alice := s.Login("alice.agent@certdesk.example")
	for _, id := range []string{first.ID, second} {
		s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	}
	decide(t, s, alice, first.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	awaitEnd(t, s, first.ID, certdesk.StatusCompleted, certdesk.MergeMerged)
	decide(t, s, alice, second, map[string]string{"decision": "approve"}, http.StatusOK)
	awaitEnd(t, s, second, certdesk.StatusRejected, certdesk.MergeNotMergeable)
	record(t, s, second, "merge-merged-meanwhile")
}

// Legal names that differ after normalization: the case flags it for the
// agent (names_mismatch), who approves after checking.
func TestHistoryMergeNamesMismatch(t *testing.T) {
	s := start(t)
	_, profiles := newLearner(t, s, "eve.stone@outlook.example", "Eve Stone", "Eva Stone")
	opened := requestMerge(t, s, s.Login("eve.stone@outlook.example"), map[string]any{"profile_ids": profiles})
	alice := s.Login("alice.agent@certdesk.example")
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	decide(t, s, alice, opened.ID, map[string]string{"decision": "approve", "note": "checked: one person, a typo"}, http.StatusOK)
	awaitEnd(t, s, opened.ID, certdesk.StatusCompleted, certdesk.MergeMerged)
	if got := mergeTimeline(t, s, alice, opened.ID); !slices.Contains(got, "names_mismatch by system") {
		t.Errorf("timeline %q has no names_mismatch", got)
	}
	record(t, s, opened.ID, "merge-names-mismatch")
}

// The agent asks for more information; Dara answers through the reply link;
// the agent approves; after the cooling-off the profile is re-bound.
func TestHistoryRecoveryInfoThenCompleted(t *testing.T) {
	s := start(t, func(c *config.Config) { c.CoolingOff = 2 * time.Second })
	id := verifiedRequest(t, s)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take?"}, http.StatusOK)
	click(t, s, awaitMailStep(s, "dara.m@proton.example", id, "request-info-1"), stacktest.Form{"reply": {"MS-900 and SC-900."}})
	s.AwaitCase(id, "the agent's turn again", func(c certdesk.Case) bool {
		evs, _ := s.Store.Events(context.Background(), id, 0, 0)
		return c.Status == certdesk.StatusAwaitingAgent && len(evs) > 0 && evs[len(evs)-1].Type == "awaiting_agent" &&
			slices.ContainsFunc(evs, func(e certdesk.CaseEvent) bool { return e.Type == "replied" })
	})
	decide(t, s, alice, id, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}, http.StatusOK)
	awaitEnd(t, s, id, certdesk.StatusCompleted, certdesk.ResolutionRecovered)
	record(t, s, id, "recovery-info-then-completed")
}

// The agent asks for more information and no answer comes in time: the
// case goes back to the agent (no_reply), who rejects it.
func TestHistoryRecoveryNoReply(t *testing.T) {
	s := start(t, func(c *config.Config) { c.LearnerWait = 2 * time.Second })
	id := verifiedRequest(t, s)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take?"}, http.StatusOK)
	s.AwaitCase(id, "no reply", func(c certdesk.Case) bool {
		evs, _ := s.Store.Events(context.Background(), id, 0, 0)
		return c.Status == certdesk.StatusAwaitingAgent && slices.ContainsFunc(evs, func(e certdesk.CaseEvent) bool { return e.Type == "no_reply" })
	})
	decide(t, s, alice, id, map[string]string{"decision": "reject", "note": "No answer came."}, http.StatusOK)
	awaitEnd(t, s, id, certdesk.StatusRejected, certdesk.ResolutionRejected)
	record(t, s, id, "recovery-no-reply")
}

// During the cooling-off, the profile being recovered is merged into
// another (a merge case, four eyes): re-binding it is refused and the case
// fails visibly.
func TestHistoryRecoveryRebindRefused(t *testing.T) {
	s := start(t, func(c *config.Config) { c.CoolingOff = 4 * time.Second })
	ctx := context.Background()
	dara := store.DemoID("profile:100005")
	other := certdesk.CertificationProfile{MCID: "700009", LegalName: "Dara Murphy", Email: "dara.murphy@outlook.example",
		CreatedAt: time.Now().AddDate(-10, 0, 0)}
	if err := s.Store.CreateCertificationProfile(ctx, &other); err != nil {
		t.Fatal(err)
	}
	id := verifiedRequest(t, s)
	alice, bob := s.Login("alice.agent@certdesk.example"), s.Login("bob.agent@certdesk.example")
	decide(t, s, alice, id, map[string]string{"decision": "approve", "profile_id": dara}, http.StatusOK)
	s.AwaitStatus(id, certdesk.StatusCoolingOff)
	merge := requestMerge(t, s, alice, map[string]any{"profile_ids": []string{dara, other.ID}, "target_id": other.ID})
	s.AwaitStatus(merge.ID, certdesk.StatusAwaitingAgent)
	decide(t, s, bob, merge.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	awaitEnd(t, s, merge.ID, certdesk.StatusCompleted, certdesk.MergeMerged)
	awaitEnd(t, s, id, certdesk.StatusFailed, certdesk.ResolutionRebindRefused)
	record(t, s, id, "recovery-rebind-refused")
}
