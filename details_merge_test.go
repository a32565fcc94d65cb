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

func TestMergeTargetChoice(t *testing.T) {
	lp := "lp"
	old := certdesk.CertificationProfile{ID: "old", MCID: "1", CreatedAt: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}
	young := certdesk.CertificationProfile{ID: "young", MCID: "2", CreatedAt: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}
	connected := young
	connected.ConnectedLearningProfileID = &lp
	tests := []struct {
		profiles  []certdesk.CertificationProfile
		requested string
		want      string
		reason    string
	}{
		{[]certdesk.CertificationProfile{young, old}, "", "old", certdesk.TargetOldest},
		{[]certdesk.CertificationProfile{young, old}, "young", "young", certdesk.TargetRequested},
		{[]certdesk.CertificationProfile{connected, old}, "", "young", certdesk.TargetConnected},
		{[]certdesk.CertificationProfile{connected, old}, "young", "young", certdesk.TargetConnected},
	}
	for _, tc := range tests {
		got, reason, err := certdesk.MergeTarget(tc.profiles, tc.requested)
		if err != nil || got.ID != tc.want || reason != tc.reason {
			t.Errorf("MergeTarget(requested %q) = %s %s %v, want %s %s", tc.requested, got.ID, reason, err, tc.want, tc.reason)
		}
	}
}
