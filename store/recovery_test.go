package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// candidate is a match as the tests state it: "100005 strong mcid legal_name".
func candidates(cs []certdesk.RecoveryCandidate) []string {
	out := []string{}
	for _, c := range cs {
		kinds := []string{c.MCID, c.Strength}
		for _, e := range c.Evidence {
			kinds = append(kinds, e.Kind)
		}
		out = append(out, strings.Join(kinds, " "))
	}
	return out
}

func TestMatchRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		tests := []struct {
			name string
			q    store.RecoveryQuery
			want []string
		}{
			{"Dara with her MCID and lost sign-in",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", MCID: "100005", PreviousEmail: "dara.murphy@outlook.example"},
				[]string{"100005 medium mcid legal_name previous_email"}},
			{"Dara with her lost sign-in and an exam she passed",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", MCID: "100005", PreviousEmail: "dara.murphy@outlook.example", Exam: "ms-900"},
				[]string{"100005 strong mcid legal_name previous_email exam"}},
			{"an exam she did not pass is no evidence",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", MCID: "100005", Exam: "AZ-104"},
				[]string{"100005 weak mcid legal_name"}},
			{"MCID and name, typed from a new address: what a certificate shows",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "stranger@proton.example", MCID: "100005"},
				[]string{"100005 weak mcid legal_name"}},
			{"MCID, name and an exam",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "stranger@proton.example", MCID: "100005", Exam: "MS-900"},
				[]string{"100005 medium mcid legal_name exam"}},
			{"name written differently, contact address on file",
				store.RecoveryQuery{LegalName: "  DARA   murphy ", ContactEmail: "Dara.Murphy@Outlook.example"},
				[]string{"100005 strong legal_name contact_email"}},
			{"name and lost sign-in",
				store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "dara.m@proton.example", PreviousEmail: "dara.murphy@outlook.example"},
				[]string{"100005 medium legal_name previous_email"}},
			{"lost sign-in with another name",
				store.RecoveryQuery{LegalName: "Someone Else", ContactEmail: "x@proton.example", PreviousEmail: "dara.murphy@outlook.example"},
				[]string{"100005 weak previous_email"}},
			{"MCID with another name",
				store.RecoveryQuery{LegalName: "Someone Else", ContactEmail: "x@proton.example", MCID: "100005"},
				[]string{"100005 weak mcid"}},
			{"contact address on file with another name finds nothing",
				store.RecoveryQuery{LegalName: "Someone Else", ContactEmail: "dara.murphy@outlook.example"},
				[]string{}},
			{"nothing matches",
				store.RecoveryQuery{LegalName: "Nobody Here", ContactEmail: "nobody@proton.example", MCID: "999999", PreviousEmail: "gone@outlook.example"},
				[]string{}},
			{"Chen's two profiles, by his lost sign-in and his contact address",
				store.RecoveryQuery{LegalName: "Chen Wei", ContactEmail: "chen.wei@outlook.example", PreviousEmail: "c.wei@gmail.example"},
				[]string{"100003 strong legal_name contact_email", "100004 strong legal_name previous_email contact_email"}},
		}
		for _, tc := range tests {
			got, err := s.MatchRecovery(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(candidates(got), tc.want) {
				t.Errorf("%s: candidates %q, want %q", tc.name, candidates(got), tc.want)
			}
			for _, c := range got {
				if c.ProfileID != store.DemoID("profile:"+c.MCID) || c.LegalName == "" {
					t.Errorf("%s: candidate %+v", tc.name, c)
				}
			}
		}
		got, _ := s.MatchRecovery(ctx, tests[0].q)
		if got[0].OwnerStatus != certdesk.AccountInactive {
			t.Errorf("Dara's candidate owner status %q, want inactive", got[0].OwnerStatus)
		}

		// A merged profile stands for its survivor.
		mergeInto(t, s, store.DemoID("profile:100004"), store.DemoID("profile:100003"))
		got, err := s.MatchRecovery(ctx, store.RecoveryQuery{LegalName: "Chen Wei", ContactEmail: "c@proton.example", MCID: "100004"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"100003 weak mcid legal_name"}; !slices.Equal(candidates(got), want) {
			t.Fatalf("MCID of a merged profile: %q, want %q", candidates(got), want)
		}
		if d := got[0].Evidence[0].Detail; !strings.Contains(d, "merged into this profile") {
			t.Errorf("evidence %q does not say it came through the merged profile", d)
		}
	})
}

// mergeInto marks a profile merged into another, as a merge case would.
func TestAddressesOnFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		tests := []struct {
			mcid, exclude string
			want          []string
		}{
			{"100005", "dara.m@proton.example", []string{"dara.murphy@outlook.example"}},
			{"100005", "Dara.Murphy@outlook.example", []string{}},
			{"100004", "", []string{"c.wei@gmail.example", "chen.wei@outlook.example"}},
			{"100002", "", []string{"ben.okafor@hotmail.example"}},
		}
		for _, tc := range tests {
			got, err := s.AddressesOnFile(ctx, store.DemoID("profile:"+tc.mcid), tc.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Emails, tc.want) && !(len(got.Emails) == 0 && len(tc.want) == 0) {
				t.Errorf("addresses of %s without %q = %q, want %q", tc.mcid, tc.exclude, got.Emails, tc.want)
			}
			if got.MCID != tc.mcid {
				t.Errorf("addresses of %s: MCID %q", tc.mcid, got.MCID)
			}
		}
		// Once Ben adds the personal account to his learning profile, his
		// work account is on file for the profile too.
		if _, _, err := s.AddAccount(ctx, store.DemoID("lp:ben"), "ben.okafor@hotmail.example", certdesk.AccountPersonal, ""); err != nil {
			t.Fatal(err)
		}
		got, _ := s.AddressesOnFile(ctx, store.DemoID("profile:100002"), "")
		if want := []string{"ben.okafor@contoso.example", "ben.okafor@hotmail.example"}; !slices.Equal(got.Emails, want) {
			t.Errorf("Ben's addresses after adding the account = %q, want %q", got.Emails, want)
		}
	})
}

func TestRebindProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		dara := store.DemoID("profile:100005")
		oldAcct := store.DemoID("account:dara.murphy@outlook.example")
		at := time.Now().UTC().Truncate(time.Second)
		before, _ := s.CertificationProfile(ctx, dara)
		certsBefore, _ := s.Certifications(ctx, dara)

		r, err := s.RebindProfile(ctx, dara, "Dara.M@Proton.example", "Dara Murphy", at)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := s.AccountByEmail(ctx, "dara.m@proton.example")
		if err != nil {
			t.Fatalf("the new account was not created: %v", err)
		}
		if !r.AccountCreated || r.AccountID != acct.ID || r.PreviousOwnerID != oldAcct || r.MCID != "100005" {
			t.Errorf("rebinding %+v", r)
		}
		if acct.Status != certdesk.AccountActive || acct.Kind != certdesk.AccountPersonal || acct.DisplayName != "Dara Murphy" {
			t.Errorf("new account %+v, want an active personal account", acct)
		}
		after, _ := s.CertificationProfile(ctx, dara)
		if after.OwnerAccountID == nil || *after.OwnerAccountID != acct.ID {
			t.Fatalf("profile owner %v, want the new account %s", after.OwnerAccountID, acct.ID)
		}
		if after.Email != before.Email || after.MCID != before.MCID || after.LegalName != before.LegalName || after.Status != before.Status {
			t.Errorf("profile changed beyond its owner: %+v → %+v", before, after)
		}
		if certs, _ := s.Certifications(ctx, dara); len(certs) != len(certsBefore) {
			t.Errorf("certifications %d → %d", len(certsBefore), len(certs))
		}
		if old, _ := s.Account(ctx, oldAcct); old.Status != certdesk.AccountInactive {
			t.Errorf("the lost account is %s, want it left inactive", old.Status)
		}

		again, err := s.RebindProfile(ctx, dara, "dara.m@proton.example", "Dara Murphy", at)
		if err != nil || !again.AlreadyBound || again.AccountCreated || again.AccountID != acct.ID {
			t.Fatalf("second rebind = %+v, %v; want a no-op", again, err)
		}

		// Back to the old, inactive account: it is made active again.
		back, err := s.RebindProfile(ctx, dara, "dara.murphy@outlook.example", "", at)
		if err != nil || !back.Reactivated || back.AccountCreated {
			t.Fatalf("rebind to the inactive account = %+v, %v", back, err)
		}
		if old, _ := s.Account(ctx, oldAcct); old.Status != certdesk.AccountActive {
			t.Errorf("reactivated account is %s", old.Status)
		}

		mergeInto(t, s, store.DemoID("profile:100004"), store.DemoID("profile:100003"))
		refused := []struct {
			name, profile, email string
			owner                string // stays the owner
		}{
			{"to a work account", store.DemoID("profile:100002"), "ben.okafor@contoso.example", store.DemoID("account:ben.okafor@hotmail.example")},
			{"a merged profile", store.DemoID("profile:100004"), "new.chen@proton.example", store.DemoID("account:c.wei@gmail.example")},
		}
		for _, tc := range refused {
			_, err := s.RebindProfile(ctx, tc.profile, tc.email, "X", at)
			if !errors.Is(err, certdesk.ErrConflict) {
				t.Errorf("%s: %v, want a conflict", tc.name, err)
			}
			p, _ := s.CertificationProfile(ctx, tc.profile)
			if p.OwnerAccountID == nil || *p.OwnerAccountID != tc.owner {
				t.Errorf("%s: owner moved to %v", tc.name, p.OwnerAccountID)
			}
		}
		if _, err := s.AccountByEmail(ctx, "new.chen@proton.example"); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("a refused rebind left an account behind: %v", err)
		}
	})
}

// Re-bindings of several profiles to one new account at once: one creates
// the account, the others bind to it (a lost race to create it is retried,
// not surfaced as a conflict).
func TestRebindToOneNewAccountConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		mcids := []string{"100001", "100002", "100003", "100005"}
		errs := make(chan error, len(mcids))
		for _, mcid := range mcids {
			go func() {
				_, err := s.RebindProfile(ctx, store.DemoID("profile:"+mcid), "shared.new@proton.example", "New", time.Now())
				errs <- err
			}()
		}
		for range mcids {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		acct, _ := s.AccountByEmail(ctx, "shared.new@proton.example")
		owned, _ := s.ProfilesOwnedBy(ctx, []string{acct.ID})
		if len(owned) != len(mcids) {
			t.Errorf("the new account owns %d profiles, want %d", len(owned), len(mcids))
		}
	})
}

// The agent sees a candidate's cases of the last 90 days, and a profile
// recovered lately is flagged and never rated strong.
func TestMatchRecoveryShowsRecentCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		profile := store.DemoID("profile:100005")
		strong := store.RecoveryQuery{LegalName: "Dara Murphy", ContactEmail: "dara.murphy@outlook.example"}
		got, err := s.MatchRecovery(ctx, strong)
		if err != nil || len(got) != 1 || got[0].Strength != certdesk.StrengthStrong || len(got[0].Recent) != 0 || len(got[0].Flags) != 0 {
			t.Fatalf("before any case: %+v %v", got, err)
		}
		open := func(kind certdesk.Kind, status certdesk.Status, age time.Duration, details string, profileIDs string) string {
			c := certdesk.Case{ID: certdesk.NewID(), Kind: kind, Status: status, Subject: "x", Requester: certdesk.ActorPublic,
				WorkflowID: "wf-" + certdesk.NewID(), ProfileIDs: strings.Fields(profileIDs), Details: json.RawMessage(details), CreatedAt: time.Now().Add(-age)}
			if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		old := open(certdesk.KindRecovery, certdesk.StatusCompleted, 100*24*time.Hour, `{"chosen_profile_id":"`+profile+`"}`, "")
		recovered := open(certdesk.KindRecovery, certdesk.StatusCompleted, time.Minute, `{"chosen_profile_id":"`+profile+`"}`, "")
		merged := open(certdesk.KindMerge, certdesk.StatusCompleted, time.Hour, `{}`, profile+" "+store.DemoID("profile:100001"))
		asking := open(certdesk.KindRecovery, certdesk.StatusAwaitingAgent, 0, `{}`, profile)
		strong.CaseID = asking
		got, err = s.MatchRecovery(ctx, strong)
		if err != nil || len(got) != 1 {
			t.Fatalf("after: %+v %v", got, err)
		}
		c := got[0]
		var ids []string
		for _, r := range c.Recent {
			ids = append(ids, r.ID)
		}
		if want := []string{recovered, merged}; !slices.Equal(ids, want) {
			t.Errorf("recent cases %q, want the recovery (a minute ago) then the merge (an hour ago), not %s, older than 90 days, nor the asking case %s", ids, old, asking)
		}
		if !slices.Contains(c.Flags, certdesk.FlagRecentlyRecovered) || !slices.Contains(c.Flags, certdesk.FlagRecentlyMerged) {
			t.Errorf("flags %q", c.Flags)
		}
		if c.Strength != certdesk.StrengthMedium {
			t.Errorf("a profile recovered a minute ago is rated %s, want medium", c.Strength)
		}
	})
}
