package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

var (
	sam   = certdesk.AgentActor(store.DemoID("agent:sam.supervisor@certdesk.example"))
	alice = certdesk.AgentActor(store.DemoID("agent:alice.agent@certdesk.example"))
)

// Chen's duplicates merged (100003 into 100004, with a profile merged
// into 100003 long ago), then undone: every row of every profile,
// certification and exam is as it was before the merge, but the
// profiles' updated_at.
func TestUnmergeRestoresEveryRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		earlier := mergedProfile(t, s, "100098", p3)
		before := fullRows(t, s)
		merge := completedMerge(t, s, p4, p3)
		if merged := fullRows(t, s); maps.Equal(merged, before) {
			t.Fatal("the merge changed nothing")
		}

		r, err := s.ReviewUnmerge(ctx, merge.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		d := r.Details
		if d.MergeCaseID != merge.ID || d.TargetMCID != "100004" || len(d.Profiles) != 2 || !d.Profiles[0].Target ||
			d.Profiles[1].MCID != "100003" || d.Profiles[1].Status != certdesk.ProfileMerged || d.Profiles[1].After != certdesk.ProfileActive ||
			len(d.Profiles[1].Certifications) != 2 || len(d.Profiles[1].Transcript) != 2 || d.Uncollapsed != 1 {
			t.Errorf("preview: %+v", d)
		}
		if len(d.Profiles[0].Certifications) == 0 || d.Profiles[0].After != certdesk.ProfileActive {
			t.Errorf("the target's part of the preview: %+v", d.Profiles[0])
		}
		if len(r.Owners) == 0 {
			t.Errorf("nobody to tell: %+v", r)
		}
		for _, o := range r.Owners {
			if o.Email == "" || o.MCID == "" {
				t.Errorf("owner %+v", o)
			}
		}

		un := openUnmergeCase(t, s, merge.ID)
		req := store.UnmergeRequest{CaseID: un.ID, WorkflowStep: 4, Actor: alice, MergeCaseID: merge.ID}
		out, err := s.UnmergeProfiles(ctx, req)
		want := certdesk.UnmergeCounts{ProfilesRestored: 1, CertificationsReturned: 2, TranscriptReturned: 2, Uncollapsed: 1}
		if err != nil || out != want {
			t.Fatalf("unmerge = %+v, %v; want %+v", out, err, want)
		}
		diffFull(t, fullRows(t, s), before)
		if got := profileStatus(t, s, earlier); got != "merged "+p3 {
			t.Errorf("the profile merged into 100003 before: %s, want merged into it again", got)
		}

		// On the record: both timelines, the profiles' histories, the event.
		if evs, _ := s.Events(ctx, merge.ID, 0, 0); evs[len(evs)-1].Type != certdesk.EventMergeUndone || !strings.Contains(string(evs[len(evs)-1].Data), un.ID) {
			t.Errorf("merge case's last event %+v", evs[len(evs)-1])
		}
		if evs, _ := s.Events(ctx, un.ID, 0, 0); evs[len(evs)-1].Type != certdesk.EventUnmerged || evs[len(evs)-1].Actor != alice {
			t.Errorf("unmerge case's last event %+v", evs[len(evs)-1])
		}
		for _, id := range []string{p3, p4, earlier} {
			if n := count(t, s, "SELECT count(*) FROM certification_profile_history WHERE source = 'unmerge' AND profile_id = '"+id+"'"); n != 1 {
				t.Errorf("profile %s: %d unmerge history rows", id, n)
			}
		}
		evs, err := s.DomainEvents(ctx, store.EventFilter{Type: certdesk.EventProfileUnmerged})
		if err != nil || len(evs) != 1 {
			t.Fatalf("unmerged events %v %v", evs, err)
		}
		var data certdesk.ProfileUnmergedData
		mustDo(t, json.Unmarshal(evs[0].Data, &data))
		if data.CaseID != un.ID || data.MergeCaseID != merge.ID || data.Target.MCID != "100004" || len(data.Sources) != 1 ||
			data.Sources[0].MCID != "100003" || data.UnmergeCounts != want {
			t.Errorf("event data %+v", data)
		}

		// Again (a retried activity): the same answer, nothing changes.
		again, err := s.UnmergeProfiles(ctx, req)
		if err != nil || again != out {
			t.Errorf("second run = %+v, %v", again, err)
		}
		diffFull(t, fullRows(t, s), before)
		// Undone once: asking again is refused, naming the undo.
		if _, err := s.ReviewUnmerge(ctx, merge.ID, 0); !strings.Contains(certdesk.ErrorMessage(err), "undone already, by case "+un.ID) {
			t.Errorf("review after the undo = %v", err)
		}
	})
}

// Each way an undo cannot be exact is refused with its reason, by the
// review and by the transaction, and changes nothing.
func TestUnmergeRefusesWhatCannotBeExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		tests := []struct {
			name   string
			change func(t *testing.T, s *store.Store, merge certdesk.Case)
			says   string
		}{
			{"older than the window", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				at := time.Now().Add(31 * 24 * time.Hour)
				s.Now = func() time.Time { return at }
			}, "more than 30 days ago"},
			{"the target merged into another profile since", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				p := certdesk.CertificationProfile{MCID: "100077", LegalName: "Chen Wei", Email: "chen@elsewhere.example", CreatedAt: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)}
				mustDo(t, s.CreateCertificationProfile(ctx, &p))
				later := completedMerge(t, s, p.ID, p4)
				t.Cleanup(func() { _ = later })
			}, "MCID 100004 was merged or changed status after this merge, by merge case"},
			{"a recovery re-bound the target since", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				rec := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorSystem, WorkflowID: "recovery-test",
					Details: json.RawMessage(`{"chosen_profile_id":"` + p4 + `"}`)}
				_, err := s.OpenCase(ctx, &rec, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
				mustDo(t, err)
				_, _, err = s.ChangeCase(ctx, store.Change{CaseID: rec.ID, Status: certdesk.StatusCompleted, Resolution: "recovered", Event: store.Event{Type: "completed"}})
				mustDo(t, err)
				exec(t, s, "UPDATE certification_profiles SET owner_account_id = '"+store.DemoID("account:chen.wei@outlook.example")+"' WHERE id = '"+p4+"'")
			}, "MCID 100004 changed owner account after this merge, by recovery case"},
			{"another learning profile connected the target since", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				mustDo(t, s.SetConnectedLearningProfile(ctx, p4, store.DemoID("lp:ana")))
			}, "MCID 100004 was connected or disconnected after this merge"},
			{"a collapsed certification changed since", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				exec(t, s, "UPDATE certifications SET duplicate_of_id = NULL WHERE id = '"+cert("100003", "AZ-900")+"'")
			}, "had its certifications moved or collapsed"},
			{"a case still open on a profile", func(t *testing.T, s *store.Store, _ certdesk.Case) {
				cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "merge-test",
					ProfileIDs: []string{p1, p4}}
				_, err := s.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
				mustDo(t, err)
			}, "is open on MCID 100004: undo the merge once it has ended"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := storetest.Seeded(t, dialect)
				merge := completedMerge(t, s, p4, p3)
				tc.change(t, s, merge)
				before := fullRows(t, s)
				if _, err := s.ReviewUnmerge(ctx, merge.ID, 0); certdesk.ErrorCode(err) != certdesk.ECONFLICT || !strings.Contains(certdesk.ErrorMessage(err), tc.says) {
					t.Errorf("review = %v (%s); want a conflict saying %q", err, certdesk.ErrorCode(err), tc.says)
				}
				un := openUnmergeCase(t, s, merge.ID)
				_, err := s.UnmergeProfiles(ctx, store.UnmergeRequest{CaseID: un.ID, WorkflowStep: 4, Actor: alice, MergeCaseID: merge.ID})
				if certdesk.ErrorCode(err) != certdesk.ECONFLICT || !strings.Contains(certdesk.ErrorMessage(err), tc.says) {
					t.Errorf("unmerge = %v; want a conflict saying %q", err, tc.says)
				}
				diffFull(t, fullRows(t, s), before)
				if c, _ := s.Case(ctx, un.ID); c.Version != 1 {
					t.Errorf("a refused undo changed its case (version %d)", c.Version)
				}
			})
		}

		t.Run("not a merge that moved profiles", func(t *testing.T) {
			s := storetest.Seeded(t, dialect)
			open := openMergeCase(t, s)
			if _, err := s.ReviewUnmerge(ctx, open.ID, 0); !strings.Contains(certdesk.ErrorMessage(err), "only a merge that moved profiles can be undone") {
				t.Errorf("open merge: %v", err)
			}
			old := openMergeCase(t, s) // completed before merges kept their snapshot
			_, _, err := s.ChangeCase(ctx, store.Change{CaseID: old.ID, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged, Event: store.Event{Type: "completed"}})
			mustDo(t, err)
			if _, err := s.ReviewUnmerge(ctx, old.ID, 0); !strings.Contains(certdesk.ErrorMessage(err), "before certdesk recorded what merges change") {
				t.Errorf("merge without snapshot: %v", err)
			}
			if _, err := s.ReviewUnmerge(ctx, certdesk.NewID(), 0); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
				t.Errorf("unknown case: %v", err)
			}
		})
	})
}

// A connect case's merge, its target then connected by that connect case:
// the connection stays with the target when the learner's sign-in owns
// it, and the undo is refused when it does not.
func TestUnmergeOfAConnectCasesMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		chen := store.DemoID("lp:chen")
		for _, owned := range []bool{false, true} {
			t.Run(fmt.Sprintf("owned %v", owned), func(t *testing.T) {
				s := storetest.Seeded(t, dialect)
				connect := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: certdesk.ActorSystem, WorkflowID: "connect-test"}
				_, err := s.OpenCase(ctx, &connect, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
				mustDo(t, err)
				parent := connect.ID
				merge := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "merge-test",
					ParentCaseID: &parent, LearningProfileID: &chen, ProfileIDs: []string{p4, p3}}
				_, err = s.OpenCase(ctx, &merge, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
				mustDo(t, err)
				finishMerge(t, s, merge, p4, p3)
				mustDo(t, s.SetConnectedLearningProfile(ctx, p4, chen))
				if owned { // 100004's owner signs in to Chen's learning profile
					exec(t, s, "UPDATE accounts SET learning_profile_id = '"+chen+"' WHERE id = '"+store.DemoID("account:c.wei@gmail.example")+"'")
				}
				_, err = s.ReviewUnmerge(ctx, merge.ID, 0)
				if !owned {
					if !strings.Contains(certdesk.ErrorMessage(err), "no account they sign in with owns") {
						t.Errorf("review = %v; want the connection refusal", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				un := openUnmergeCase(t, s, merge.ID)
				if _, err := s.UnmergeProfiles(ctx, store.UnmergeRequest{CaseID: un.ID, WorkflowStep: 4, Actor: alice, MergeCaseID: merge.ID}); err != nil {
					t.Fatal(err)
				}
				ps, err := s.CertificationProfiles(ctx, []string{p3, p4})
				mustDo(t, err)
				for _, p := range ps {
					connected := p.ConnectedLearningProfileID != nil && *p.ConnectedLearningProfileID == chen
					if p.Status != certdesk.ProfileActive || connected != (p.ID == p4) {
						t.Errorf("profile %s after the undo: %s, connected %v", p.MCID, p.Status, connected)
					}
				}
			})
		}
	})
}

// completedMerge runs a merge of sources into target through its case, as
// a merge workflow does, and completes the case.
func completedMerge(t *testing.T, s *store.Store, target string, sources ...string) certdesk.Case {
	t.Helper()
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: alice, WorkflowID: "merge-test",
		ProfileIDs: append([]string{target}, sources...)}
	_, err := s.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
	mustDo(t, err)
	finishMerge(t, s, cs, target, sources...)
	return cs
}

func finishMerge(t *testing.T, s *store.Store, cs certdesk.Case, target string, sources ...string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.MergeProfiles(ctx, store.MergeRequest{CaseID: cs.ID, WorkflowStep: 2, Actor: alice, TargetID: target, SourceIDs: sources})
	mustDo(t, err)
	_, _, err = s.ChangeCase(ctx, store.Change{CaseID: cs.ID, WorkflowStep: 3, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
		Event: store.Event{Type: "completed"}})
	mustDo(t, err)
}

func openUnmergeCase(t *testing.T, s *store.Store, mergeID string) certdesk.Case {
	t.Helper()
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindUnmerge, Requester: sam, WorkflowID: "unmerge-" + mergeID, ParentCaseID: &mergeID}
	_, err := s.OpenCase(context.Background(), &cs, store.Event{Actor: sam, Type: "opened"})
	mustDo(t, err)
	return cs
}

// fullRows reads every column of every profile, certification and exam
// (a profile's updated_at aside, which says when it last changed).
func fullRows(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"certification_profiles", "certifications", "transcript_entries"} {
		rs, err := s.SQL().Query("SELECT * FROM " + table)
		mustDo(t, err)
		cols, err := rs.Columns()
		mustDo(t, err)
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			mustDo(t, rs.Scan(ptrs...))
			var id string
			var b strings.Builder
			for i, c := range cols {
				v := vals[i]
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				switch c {
				case "id":
					id = fmt.Sprint(v)
				case "updated_at":
					continue
				}
				fmt.Fprintf(&b, "%s=%v ", c, v)
			}
			out[table+" "+id] = b.String()
		}
		mustDo(t, errors.Join(rs.Err(), rs.Close()))
	}
	return out
}

func diffFull(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n  got  %s\n  want %s", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: a row that was not there", k)
		}
	}
}

func profileStatus(t *testing.T, s *store.Store, id string) string {
	t.Helper()
	var st, into string
	mustDo(t, s.SQL().QueryRow("SELECT status, COALESCE(merged_into_id, '-') FROM certification_profiles WHERE id = '"+id+"'").Scan(&st, &into))
	return st + " " + into
}

func count(t *testing.T, s *store.Store, q string) int {
	t.Helper()
	var n int
	mustDo(t, s.SQL().QueryRow(q).Scan(&n))
	return n
}

func exec(t *testing.T, s *store.Store, q string) {
	t.Helper()
	_, err := s.SQL().Exec(q)
	mustDo(t, err)
}
