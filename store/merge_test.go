package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

var (
	p1 = store.DemoID("profile:100001") // Ana's
	p2 = store.DemoID("profile:100002") // Ben's
	p3 = store.DemoID("profile:100003") // Chen's, owned by his learning profile's account
	p4 = store.DemoID("profile:100004") // Chen's older duplicate, owned by c.wei@gmail.example
	p5 = store.DemoID("profile:100005") // Dara's
)

func cert(mcid, code string) string { return store.DemoID("cert:" + mcid + ":" + code) }

func TestReviewMergeOfChensDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		r, err := s.ReviewMerge(ctx, []string{p3, p4}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		d := r.Details
		if d.TargetID != p4 || d.TargetMCID != "100004" || d.TargetReason != certdesk.TargetOldest || !d.NamesMatch {
			t.Errorf("target %s (%s), names match %v: want the oldest, 100004", d.TargetMCID, d.TargetReason, d.NamesMatch)
		}
		if len(d.Profiles) != 2 || !d.Profiles[0].Target || d.Profiles[0].MCID != "100004" || d.Profiles[1].MCID != "100003" ||
			d.Profiles[1].Certifications != 2 || d.Profiles[1].Transcript != 2 {
			t.Errorf("profiles side by side: %+v", d.Profiles)
		}
		pv := d.Preview
		if len(pv.Moves) != 1 || pv.Moves[0].MCID != "100003" || len(pv.Moves[0].Certifications) != 2 || len(pv.Moves[0].Transcript) != 2 {
			t.Errorf("moves %+v", pv.Moves)
		}
		if pv.CertificationsMoved != 2 || pv.TranscriptMoved != 2 || pv.DuplicatesCollapsed != 1 {
			t.Errorf("counts %+v", pv.MergeCounts)
		}
		if len(pv.Duplicates) != 1 || pv.Duplicates[0].Code != "AZ-900" || pv.Duplicates[0].KeepID != cert("100004", "AZ-900") ||
			!slices.Equal(pv.Duplicates[0].Collapse, []string{cert("100003", "AZ-900")}) {
			t.Errorf("duplicates %+v: want 100003's AZ-900 collapsed onto 100004's earlier one", pv.Duplicates)
		}
		// The target's owner has no learning profile; the case is about the
		// owner that has one, and the outcome goes to the target's address.
		if r.AccountID != store.DemoID("account:chen.wei@outlook.example") || r.LearningProfileID != store.DemoID("lp:chen") ||
			r.LearnerEmail != "chen.wei@outlook.example" || r.LearnerName != "Chen Wei" {
			t.Errorf("who it is about: %+v", r)
		}

		// Into the newer profile, as asked: the earliest AZ-900 still wins,
		// and it is the one that moves in.
		r, err = s.ReviewMerge(ctx, []string{p3, p4}, p3, nil)
		if err != nil {
			t.Fatal(err)
		}
		dup := r.Details.Preview.Duplicates
		if r.Details.TargetReason != certdesk.TargetRequested || len(dup) != 1 || dup[0].KeepID != cert("100004", "AZ-900") ||
			!slices.Equal(dup[0].Collapse, []string{cert("100003", "AZ-900")}) {
			t.Errorf("into 100003: %+v", r.Details)
		}
	})
}

func TestReviewMergeRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		// The state the refusals need: Chen's and Ana's profiles connected,
		// and a profile merged into Dara's.
		mustDo(t, s.SetConnectedLearningProfile(ctx, p3, store.DemoID("lp:chen")))
		mustDo(t, s.SetConnectedLearningProfile(ctx, p1, store.DemoID("lp:ana")))
		merged := mergedProfile(t, s, "100099", p5)

		tests := []struct {
			name   string
			ids    []string
			target string
			code   string
			says   string
		}{
			{"one profile", []string{p3}, "", certdesk.EINVALID, "invalid fields"},
			{"the same profile twice", []string{p3, p3}, "", certdesk.EINVALID, "invalid fields"},
			{"an unknown profile", []string{p3, certdesk.NewID()}, "", certdesk.ENOTFOUND, "no certification profile"},
			{"a merged profile", []string{p5, merged}, "", certdesk.ECONFLICT, "MCID 100099 is already merged"},
			{"a target not among them", []string{p3, p4}, p2, certdesk.EINVALID, "invalid fields"},
			{"not into the connected one", []string{p3, p4}, p4, certdesk.ECONFLICT, "MCID 100003 is connected"},
			{"two connected profiles", []string{p1, p3}, "", certdesk.ECONFLICT, "both connected"},
		}
		for _, tc := range tests {
			_, err := s.ReviewMerge(ctx, tc.ids, tc.target, nil)
			if certdesk.ErrorCode(err) != tc.code || !strings.Contains(certdesk.ErrorMessage(err), tc.says) {
				t.Errorf("%s: %v (%s), want %s saying %q", tc.name, err, certdesk.ErrorCode(err), tc.code, tc.says)
			}
		}
		r, err := s.ReviewMerge(ctx, []string{p3, p4}, "", nil)
		if err != nil || r.Details.TargetID != p3 || r.Details.TargetReason != certdesk.TargetConnected {
			t.Errorf("with 100003 connected: %+v %v, want it forced as the target", r.Details, err)
		}
	})
}

func TestMergeProfilesInOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		earlier := mergedProfile(t, s, "100098", p3) // merged into 100003 long ago
		cs := openMergeCase(t, s)
		before := rows(t, s)

		agent := certdesk.AgentActor(store.DemoID("agent:alice.agent@certdesk.example"))
		req := store.MergeRequest{CaseID: cs.ID, WorkflowStep: 5, Actor: agent, TargetID: p4, SourceIDs: []string{p3}}
		out, err := s.MergeProfiles(ctx, req)
		want := certdesk.MergeCounts{CertificationsMoved: 2, TranscriptMoved: 2, DuplicatesCollapsed: 1}
		if err != nil || out.MergeCounts != want || out.AlreadyMerged {
			t.Fatalf("merge = %+v, %v; want %+v", out, err, want)
		}

		// Row by row: only these changed.
		wantRows := maps.Clone(before)
		wantRows["cert "+cert("100003", "AZ-204")] = p4 + " -"
		wantRows["cert "+cert("100003", "AZ-900")] = p4 + " " + cert("100004", "AZ-900")
		wantRows["exam "+store.DemoID("exam:100003:AZ-900:2020")] = p4
		wantRows["exam "+store.DemoID("exam:100003:AZ-204:2021")] = p4
		wantRows["profile "+p3] = "merged " + p4
		wantRows["profile "+earlier] = "merged " + p4
		after := rows(t, s)
		diffRows(t, after, wantRows)

		c, err := s.Case(ctx, cs.ID)
		if err != nil || c.Version != 2 || c.WorkflowStep != 5 {
			t.Fatalf("case after the merge: %+v %v", c, err)
		}
		evs, _ := s.Events(ctx, cs.ID, 0, 0)
		var data map[string]any
		_ = json.Unmarshal(evs[1].Data, &data)
		if evs[1].Type != "merged" || evs[1].Actor != agent || data["target_mcid"] != "100004" || data["certifications_moved"] != 2.0 {
			t.Errorf("merged event %+v %v", evs[1], data)
		}

		// Again (a retried activity): the same answer, nothing changes.
		again, err := s.MergeProfiles(ctx, req)
		if err != nil || again != out {
			t.Errorf("second run = %+v, %v; want %+v", again, err, out)
		}
		diffRows(t, rows(t, s), after)
		if c2, _ := s.Case(ctx, cs.ID); c2.Version != c.Version {
			t.Errorf("second run changed the case: version %d → %d", c.Version, c2.Version)
		}

		// The same merge by another case: already merged, nothing moves.
		other := openMergeCase(t, s)
		out, err = s.MergeProfiles(ctx, store.MergeRequest{CaseID: other.ID, WorkflowStep: 5, Actor: agent, TargetID: p4, SourceIDs: []string{p3}})
		if err != nil || !out.AlreadyMerged || out.MergeCounts != (certdesk.MergeCounts{}) {
			t.Errorf("another case's merge = %+v, %v; want already merged", out, err)
		}
		diffRows(t, rows(t, s), after)
	})
}

func TestMergeProfilesRefusesWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		tests := []struct {
			name    string
			change  func(*store.Store) error
			sources []string
			says    string
		}{
			{"a source connected meanwhile", func(s *store.Store) error {
				return s.SetConnectedLearningProfile(ctx, p3, store.DemoID("lp:chen"))
			}, []string{p3}, "can only be merged into it"},
			{"the target merged elsewhere meanwhile", func(s *store.Store) error {
				cs := openMergeCase(t, s)
				_, err := s.MergeProfiles(ctx, store.MergeRequest{CaseID: cs.ID, WorkflowStep: 2, TargetID: p3, SourceIDs: []string{p4}})
				return err
			}, []string{p3}, "MCID 100004 is already merged"},
			{"an unknown source", func(*store.Store) error { return nil }, []string{p3, certdesk.NewID()}, "no certification profile"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := storetest.Seeded(t, dialect)
				cs := openMergeCase(t, s)
				mustDo(t, tc.change(s))
				before := rows(t, s)
				_, err := s.MergeProfiles(ctx, store.MergeRequest{CaseID: cs.ID, WorkflowStep: 3, TargetID: p4, SourceIDs: tc.sources})
				if certdesk.ErrorCode(err) == certdesk.EINTERNAL || !strings.Contains(certdesk.ErrorMessage(err), tc.says) {
					t.Fatalf("merge = %v (%s), want a refusal saying %q", err, certdesk.ErrorCode(err), tc.says)
				}
				diffRows(t, rows(t, s), before)
				if c, _ := s.Case(ctx, cs.ID); c.Version != 1 {
					t.Errorf("a refused merge changed the case (version %d)", c.Version)
				}
			})
		}
	})
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mergedProfile adds a profile already merged into another.
func mergedProfile(t *testing.T, s *store.Store, mcid, into string) string {
	t.Helper()
	p := certdesk.CertificationProfile{MCID: mcid, LegalName: "Old Duplicate", Email: "old@example.example",
		Status: certdesk.ProfileMerged, MergedIntoID: &into, CreatedAt: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)}
	mustDo(t, s.CreateCertificationProfile(context.Background(), &p))
	return p.ID
}

func openMergeCase(t *testing.T, s *store.Store) certdesk.Case {
	t.Helper()
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "merge-test"}
	_, err := s.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
	mustDo(t, err)
	return cs
}

// rows reads every profile, certification and exam as "kind id" → what a
// merge changes in it.
func rows(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{
		`SELECT 'profile ' || id, status || ' ' || COALESCE(merged_into_id, '-') FROM certification_profiles`,
		`SELECT 'cert ' || id, profile_id || ' ' || COALESCE(duplicate_of_id, '-') FROM certifications`,
		`SELECT 'exam ' || id, profile_id FROM transcript_entries`,
	} {
		rs, err := s.SQL().Query(q)
		mustDo(t, err)
		for rs.Next() {
			var k, v string
			mustDo(t, rs.Scan(&k, &v))
			out[k] = v
		}
		mustDo(t, errors.Join(rs.Err(), rs.Close()))
	}
	return out
}

func diffRows(t *testing.T, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: %q, want %q", k, got[k], want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
}
