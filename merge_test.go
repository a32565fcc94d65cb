package certdesk_test

import (
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
)

// Three profiles, the same certification on each: the earliest is kept
// wherever it sits, and a row collapsed onto it before is not counted again.
func TestPlanMergeCollapsesToTheEarliest(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2020, 1, d, 0, 0, 0, 0, time.UTC) }
	keep := "c-b-1"
	target := certdesk.CertificationProfile{ID: "a", MCID: "1"}
	sources := []certdesk.CertificationProfile{{ID: "b", MCID: "2"}, {ID: "c", MCID: "3"}}
	certs := []certdesk.Certification{
		{ID: "c-a-1", ProfileID: "a", Code: "AZ-900", EarnedAt: day(5)},
		{ID: keep, ProfileID: "b", Code: "AZ-900", EarnedAt: day(1)},
		{ID: "c-b-2", ProfileID: "b", Code: "az-900 ", EarnedAt: day(3), DuplicateOfID: &keep},
		{ID: "c-c-1", ProfileID: "c", Code: "AZ-900", EarnedAt: day(2)},
		{ID: "c-c-2", ProfileID: "c", Code: "DP-900", EarnedAt: day(4)},
		{ID: "c-x-1", ProfileID: "x", Code: "AZ-900", EarnedAt: day(1)}, // not in the merge
	}
	exams := []certdesk.TranscriptEntry{{ID: "e-c-1", ProfileID: "c", ExamCode: "DP-900", TakenAt: day(4)}}

	pv := certdesk.PlanMerge(target, sources, certs, exams)
	if pv.CertificationsMoved != 4 || pv.TranscriptMoved != 1 || pv.DuplicatesCollapsed != 2 {
		t.Errorf("counts %+v, want 4 moved, 1 exam, 2 collapsed", pv.MergeCounts)
	}
	if len(pv.Duplicates) != 1 || pv.Duplicates[0].KeepID != keep || pv.Duplicates[0].KeepMCID != "2" ||
		!slices.Equal(pv.Duplicates[0].Collapse, []string{"c-c-1", "c-a-1"}) {
		t.Errorf("duplicates %+v", pv.Duplicates)
	}
	if len(pv.Moves) != 2 || len(pv.Moves[0].Certifications) != 2 || len(pv.Moves[1].Transcript) != 1 {
		t.Errorf("moves %+v", pv.Moves)
	}
}

// The target: the connected profile; else the requested one; else the
// oldest owned by the learning profile's personal accounts (a connect
// case's merge); else the oldest.
func TestMergeTargetChoice(t *testing.T) {
	lp, me, other := "lp", "acct-me", "acct-other"
	at := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	old := certdesk.CertificationProfile{ID: "old", MCID: "1", CreatedAt: at(2019), OwnerAccountID: &other}
	young := certdesk.CertificationProfile{ID: "young", MCID: "2", CreatedAt: at(2021), OwnerAccountID: &me}
	younger := certdesk.CertificationProfile{ID: "younger", MCID: "3", CreatedAt: at(2023), OwnerAccountID: &me}
	unowned := certdesk.CertificationProfile{ID: "unowned", MCID: "4", CreatedAt: at(2018)}
	connected := younger
	connected.ConnectedLearningProfileID = &lp
	tests := []struct {
		profiles  []certdesk.CertificationProfile
		requested string
		owners    []string
		want      string
		reason    string
	}{
		{[]certdesk.CertificationProfile{young, old}, "", nil, "old", certdesk.TargetOldest},
		{[]certdesk.CertificationProfile{young, old}, "young", nil, "young", certdesk.TargetRequested},
		{[]certdesk.CertificationProfile{connected, old}, "", nil, "younger", certdesk.TargetConnected},
		{[]certdesk.CertificationProfile{connected, old}, "younger", nil, "younger", certdesk.TargetConnected},
		// Chen's case: his sign-in owns the younger profile.
		{[]certdesk.CertificationProfile{old, young}, "", []string{me}, "young", certdesk.TargetOwned},
		{[]certdesk.CertificationProfile{old, younger, young}, "", []string{me}, "young", certdesk.TargetOwned},
		{[]certdesk.CertificationProfile{unowned, old, younger}, "", []string{"someone", me}, "younger", certdesk.TargetOwned},
		{[]certdesk.CertificationProfile{old, unowned}, "", []string{me}, "unowned", certdesk.TargetOldest},
		{[]certdesk.CertificationProfile{old, connected}, "", []string{other}, "younger", certdesk.TargetConnected},
		{[]certdesk.CertificationProfile{old, young}, "old", []string{me}, "old", certdesk.TargetRequested},
	}
	for _, tc := range tests {
		got, reason, err := certdesk.MergeTarget(tc.profiles, tc.requested, tc.owners)
		if err != nil || got.ID != tc.want || reason != tc.reason {
			t.Errorf("MergeTarget(requested %q, owners %q) = %s %s %v, want %s %s", tc.requested, tc.owners, got.ID, reason, err, tc.want, tc.reason)
		}
	}
}
