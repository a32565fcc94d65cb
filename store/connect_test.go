package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// mergeInto marks a profile merged into another, as a merge case leaves it.
func mergeInto(t *testing.T, s *store.Store, src, dst string) {
	t.Helper()
	q := fmt.Sprintf("UPDATE certification_profiles SET status = 'merged', merged_into_id = '%s' WHERE id = '%s'", dst, src)
	if _, err := s.SQL().Exec(q); err != nil {
		t.Fatal(err)
	}
}

func mcids(ps []certdesk.CertificationProfile) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.MCID)
	}
	return strings.Join(out, " ")
}

func addAccount(t *testing.T, s *store.Store, lp, email string) {
	t.Helper()
	if _, _, err := s.AddAccount(context.Background(), store.DemoID("lp:"+lp), email, certdesk.AccountPersonal, ""); err != nil {
		t.Fatal(err)
	}
}

func TestConnectCandidatesOfTheDemoLearners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		cases := []struct {
			name, lp        string
			setup           func(t *testing.T, s *store.Store)
			owned, dups     string
			personal        bool
			connectedBefore bool
		}{
			{name: "Ana owns one profile", lp: "ana", owned: "100001", personal: true},
			{name: "Ben has no personal account yet", lp: "ben"},
			{name: "Ben after adding his personal account", lp: "ben", owned: "100002", personal: true,
				setup: func(t *testing.T, s *store.Store) { addAccount(t, s, "ben", "ben.okafor@hotmail.example") }},
			{name: "Chen: the profile of c.wei@gmail is a likely duplicate", lp: "chen", owned: "100003", dups: "100004", personal: true},
			{name: "Chen after the merge: the survivor counts as owned", lp: "chen", owned: "100004", personal: true,
				setup: func(t *testing.T, s *store.Store) {
					mergeInto(t, s, store.DemoID("profile:100003"), store.DemoID("profile:100004"))
				}},
			{name: "a different legal name is not a duplicate", lp: "chen", owned: "100003", personal: true,
				setup: func(t *testing.T, s *store.Store) {
					if _, err := s.SQL().Exec("UPDATE certification_profiles SET legal_name = 'Wei Chen-Li' WHERE mcid = '100004'"); err != nil {
						t.Fatal(err)
					}
				}},
			{name: "a connected learning profile shows its profile", lp: "ana", owned: "100001", personal: true, connectedBefore: true,
				setup: func(t *testing.T, s *store.Store) {
					if err := s.SetConnectedLearningProfile(context.Background(), store.DemoID("profile:100001"), store.DemoID("lp:ana")); err != nil {
						t.Fatal(err)
					}
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := storetest.Seeded(t, dialect)
				if tc.setup != nil {
					tc.setup(t, s)
				}
				cc, err := s.ConnectCandidates(context.Background(), store.DemoID("lp:"+tc.lp))
				if err != nil {
					t.Fatal(err)
				}
				personal := slices.ContainsFunc(cc.Accounts, func(a certdesk.Account) bool { return a.Kind == certdesk.AccountPersonal })
				if got := mcids(cc.Owned); got != tc.owned {
					t.Errorf("owned = %q, want %q", got, tc.owned)
				}
				if got := mcids(cc.Duplicates); got != tc.dups {
					t.Errorf("duplicates = %q, want %q", got, tc.dups)
				}
				if personal != tc.personal || (cc.Connected != nil) != tc.connectedBefore {
					t.Errorf("personal account %v, connected %v; want %v, %v", personal, cc.Connected, tc.personal, tc.connectedBefore)
				}
			})
		}
		s := storetest.Seeded(t, dialect)
		if _, err := s.ConnectCandidates(context.Background(), certdesk.NewID()); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("unknown learning profile: %v, want not found", err)
		}
	})
}

// refusal returns the reason of a refused connection ("" when err is not one).
func refusal(err error) string {
	var r *store.ConnectRefusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestConnectChecksTheRulesInItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		lp := func(n string) string { return store.DemoID("lp:" + n) }
		profile := func(mcid string) string { return store.DemoID("profile:" + mcid) }
		cases := []struct {
			name      string
			setup     func(t *testing.T, s *store.Store)
			lp, mcid  string
			want      string // "" connects; else the refusal
			connected bool   // the profile is connected to lp afterwards
		}{
			{name: "Ana connects her profile", lp: "ana", mcid: "100001", connected: true},
			{name: "connecting twice is a no-op", lp: "ana", mcid: "100001", connected: true,
				setup: func(t *testing.T, s *store.Store) {
					if _, err := s.Connect(context.Background(), lp("ana"), profile("100001")); err != nil {
						t.Fatal(err)
					}
				}},
			{name: "someone else's profile", lp: "ana", mcid: "100002", want: certdesk.ConnectNotOwned},
			{name: "a likely duplicate is not owned", lp: "chen", mcid: "100004", want: certdesk.ConnectNotOwned},
			{name: "Ben before he adds his personal account", lp: "ben", mcid: "100002", want: certdesk.ConnectNotOwned},
			{name: "the survivor of a merge of an owned profile", lp: "chen", mcid: "100004", connected: true,
				setup: func(t *testing.T, s *store.Store) { mergeInto(t, s, profile("100003"), profile("100004")) }},
			{name: "a merged profile", lp: "chen", mcid: "100003", want: certdesk.ConnectProfileNotActive,
				setup: func(t *testing.T, s *store.Store) { mergeInto(t, s, profile("100003"), profile("100004")) }},
			{name: "connected to another learning profile", lp: "ana", mcid: "100001", want: certdesk.ConnectConnectedElsewhere,
				setup: func(t *testing.T, s *store.Store) {
					if err := s.SetConnectedLearningProfile(context.Background(), profile("100001"), lp("dara")); err != nil {
						t.Fatal(err)
					}
				}},
			{name: "the learning profile has another connected profile", lp: "chen", mcid: "100004", want: certdesk.ConnectAlreadyConnected,
				setup: func(t *testing.T, s *store.Store) {
					addAccount(t, s, "chen", "c.wei@gmail.example")
					if _, err := s.Connect(context.Background(), lp("chen"), profile("100003")); err != nil {
						t.Fatal(err)
					}
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				s := storetest.Seeded(t, dialect)
				if tc.setup != nil {
					tc.setup(t, s)
				}
				before, _ := s.CertificationProfile(ctx, profile(tc.mcid))
				got, err := s.Connect(ctx, lp(tc.lp), profile(tc.mcid))
				if r := refusal(err); r != tc.want || (tc.want == "" && err != nil) {
					t.Fatalf("Connect = %v (refusal %q), want refusal %q", err, r, tc.want)
				}
				if tc.want != "" && (!errors.Is(err, certdesk.ErrConflict) || !strings.Contains(certdesk.ErrorMessage(err), tc.mcid) && tc.want != certdesk.ConnectAlreadyConnected) {
					t.Errorf("refusal %v: want a conflict naming the MCID", err)
				}
				after, _ := s.CertificationProfile(ctx, profile(tc.mcid))
				isConnected := after.ConnectedLearningProfileID != nil && *after.ConnectedLearningProfileID == lp(tc.lp)
				if isConnected != tc.connected {
					t.Fatalf("profile connected to %v, want connected=%v", after.ConnectedLearningProfileID, tc.connected)
				}
				if tc.want == "" && (got.ConnectedAt == nil || got.ID != after.ID) {
					t.Errorf("Connect returned %+v", got)
				}
				if tc.want != "" && !equalConnection(before, after) {
					t.Errorf("a refused connection changed the profile: %+v -> %+v", before, after)
				}
			})
		}
	})
}

func equalConnection(a, b certdesk.CertificationProfile) bool {
	key := func(p certdesk.CertificationProfile) string {
		s := p.Status
		if p.ConnectedLearningProfileID != nil {
			s += " " + *p.ConnectedLearningProfileID + " " + p.ConnectedAt.String()
		}
		return s
	}
	return key(a) == key(b)
}

// claimants makes two learning profiles that may both connect one profile:
// A owns it, B owned a profile that was merged into it.
func claimants(t *testing.T, s *store.Store, round int) (lpA, lpB, target string) {
	t.Helper()
	ctx := context.Background()
	mk := func(who string) (string, string) {
		lp := certdesk.LearningProfile{DisplayName: "Racer " + who}
		if err := s.CreateLearningProfile(ctx, &lp); err != nil {
			t.Fatal(err)
		}
		email := fmt.Sprintf("racer-%s-%d@outlook.example", who, round)
		acct, _, err := s.AddAccount(ctx, lp.ID, email, certdesk.AccountPersonal, "")
		if err != nil {
			t.Fatal(err)
		}
		p := certdesk.CertificationProfile{MCID: fmt.Sprintf("9%02d%s", round, who), LegalName: "Racer", Email: email, OwnerAccountID: &acct.ID}
		if err := s.CreateCertificationProfile(ctx, &p); err != nil {
			t.Fatal(err)
		}
		return lp.ID, p.ID
	}
	lpA, target = mk("1")
	lpB, merged := mk("2")
	mergeInto(t, s, merged, target)
	return lpA, lpB, target
}

// race runs f twice at once and returns both errors.
func race(f func(i int) error) [2]error {
	var (
		errs  [2]error
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Two connect cases racing for one certification profile: exactly one
// connection, and the other a clear refusal.
func TestConnectRaceForOneProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		for round := range 10 {
			lpA, lpB, target := claimants(t, s, round)
			lps := [2]string{lpA, lpB}
			errs := race(func(i int) error { _, err := s.Connect(ctx, lps[i], target); return err })
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner < 0:
					winner = i
				case refusal(err) == certdesk.ConnectConnectedElsewhere:
				default:
					t.Fatalf("round %d: results %v: want one connection and one connected_elsewhere", round, errs)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody connected: %v", round, errs)
			}
			p, _ := s.CertificationProfile(ctx, target)
			if p.ConnectedLearningProfileID == nil || *p.ConnectedLearningProfileID != lps[winner] {
				t.Fatalf("round %d: profile connected to %v, want the winner %s", round, p.ConnectedLearningProfileID, lps[winner])
			}
		}
	})
}

// Two profiles racing to be connected to one learning profile: one wins.
func TestConnectRaceForOneLearningProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		addAccount(t, s, "chen", "c.wei@gmail.example") // Chen owns both profiles now
		profiles := [2]string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}
		errs := race(func(i int) error { _, err := s.Connect(ctx, store.DemoID("lp:chen"), profiles[i]); return err })
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("results %v: want exactly one connection", errs)
		}
		for _, err := range errs {
			if err != nil && refusal(err) != certdesk.ConnectAlreadyConnected {
				t.Fatalf("the loser got %v, want already_connected", err)
			}
		}
		if _, err := s.ConnectedProfile(ctx, store.DemoID("lp:chen")); err != nil {
			t.Fatalf("connected profile: %v", err)
		}
	})
}

func TestChangeCaseRecordsProfilesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		c := openCase(t, s)
		ch := store.Change{CaseID: c.ID, WorkflowStep: 2, Subject: "Chen Wei · connect · MCID 100003, 100004",
			Event: store.Event{Actor: certdesk.ActorSystem, Type: "profiles_found"}}
		ids := []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}
		ch.ProfileIDs, ch.MCIDs = ids, []string{"100003", "100004"}
		got, applied, err := s.ChangeCase(ctx, ch)
		if err != nil || !applied || got.Version != 2 || !slices.Equal(got.ProfileIDs, ids) || strings.Join(got.MCIDs, " ") != "100003 100004" || got.Subject != ch.Subject {
			t.Fatalf("ChangeCase = %+v, %v, %v", got, applied, err)
		}
		ch.ProfileIDs, ch.MCIDs = nil, nil
		got, applied, err = s.ChangeCase(ctx, ch) // a retry
		if err != nil || applied || got.Version != 2 || strings.Join(got.MCIDs, " ") != "100003 100004" {
			t.Fatalf("retried = version %d, applied %v, mcids %q, %v; want a no-op", got.Version, applied, got.MCIDs, err)
		}
		page, err := s.ListCases(ctx, store.CaseFilter{Q: "100004"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != c.ID {
			t.Fatalf("search by MCID found %v, %v", page.Items, err)
		}
	})
}
