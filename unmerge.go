package certdesk

import (
	"strings"
	"time"
)

// An unmerge case takes a completed merge back: each source profile active
// again with exactly the certifications and exams it had, the duplicates
// the merge collapsed apart again, the target with what it had before. A
// supervisor asks for it with a reason; another staff member approves it
// (four eyes, as for a merge). Its rules live here; the store checks them
// against the rows the merge recorded (store.ReviewUnmerge) and applies
// them in one transaction (store.UnmergeProfiles).
//
// An undo is refused when it cannot be exact (UnmergeRefusal says which):
// the merge is older than the undo window, it was made before certdesk
// recorded what merges change, it was undone already, or something changed
// one of its rows since (a later merge, recovery or connection; the
// reason names the profile and the case). The learner's connection stays
// with the profile it is on, the merge's target; when the learner's
// sign-in would then not own that profile, the undo is refused.

// KindUnmerge is the kind of a case that undoes a merge.
const KindUnmerge Kind = "unmerge"

// UnmergeDecisions are the decisions an unmerge case takes.
var UnmergeDecisions = []Decision{DecisionApprove, DecisionReject}

// Resolutions of an unmerge case.
const (
	// UnmergeUnmerged: approved, and every source is back as it was.
	UnmergeUnmerged = "unmerged"
	// UnmergeRejectedByAgent: the approver said no (with a note).
	UnmergeRejectedByAgent = "rejected_by_agent"
	// UnmergeNotUndoable: the merge could not be undone exactly (the
	// reason says why); nothing changed.
	UnmergeNotUndoable = "not_undoable"
)

// EventUnmerged is written by the unmerge's own transaction, on the
// unmerge case; the merge case gets EventMergeUndone in the same one.
const (
	EventUnmerged    EventType = "unmerged"
	EventMergeUndone EventType = "merge_undone"
)

// DefaultUnmergeWindow is how long after a merge completed it can be
// undone (CERTDESK_UNMERGE_WINDOW).
const DefaultUnmergeWindow = 30 * 24 * time.Hour

// UnmergeFourEyes refuses the approval of an undo by the supervisor who
// asked for it: another staff member approves.
func UnmergeFourEyes(requester Actor, agentID string, d Decision) error {
	if d == DecisionApprove && requester == AgentActor(agentID) {
		return Errorf(ECONFLICT, "four eyes: you asked to undo this merge, so another staff member must approve it")
	}
	return nil
}

// FourEyes is the four-eyes rule of a kind: the staff member who asked for
// a merge or its undo does not approve it. Other kinds have none.
func FourEyes(k Kind, requester Actor, agentID string, d Decision) error {
	switch k {
	case KindMerge:
		return MergeFourEyes(requester, agentID, d)
	case KindUnmerge:
		return UnmergeFourEyes(requester, agentID, d)
	}
	return nil
}

// UnmergeDetails is an unmerge case's details: the merge it undoes and the
// preview of what approving restores.
type UnmergeDetails struct {
	MergeCaseID string    `json:"merge_case_id"`
	MergedAt    time.Time `json:"merged_at"`
	TargetID    string    `json:"target_id"`
	TargetMCID  string    `json:"target_mcid"`
	// Profiles lists the target first, then the sources, each with what it
	// holds after the undo.
	Profiles []UnmergeProfile `json:"profiles"`
	// Uncollapsed counts the certifications the merge marked as duplicates
	// that are certifications of their own again.
	Uncollapsed int `json:"uncollapsed"`
	// Note is the requester's reason.
	Note string `json:"note,omitempty"`
	// Result is what the approved undo restored.
	Result *UnmergeCounts `json:"result,omitempty"`
}

// UnmergeProfile is one profile of an undo, as it will be.
type UnmergeProfile struct {
	ID        string `json:"id"`
	MCID      string `json:"mcid"`
	LegalName string `json:"legal_name"`
	Target    bool   `json:"target"`
	// Status is the profile's status now; After is its status once undone.
	Status string `json:"status"`
	After  string `json:"after"`
	// Certifications and Transcript are what it holds once undone: for a
	// source what the merge moved away from it, for the target what it keeps.
	Certifications []MergeItem `json:"certifications"`
	Transcript     []MergeItem `json:"transcript"`
}

// UnmergeCounts counts what an undo restored.
type UnmergeCounts struct {
	ProfilesRestored       int `json:"profiles_restored"`
	CertificationsReturned int `json:"certifications_returned"`
	TranscriptReturned     int `json:"transcript_returned"`
	Uncollapsed            int `json:"uncollapsed"`
}

// UnmergeReview is an undo request checked against the store.
type UnmergeReview struct {
	Details UnmergeDetails
	// ProfileIDs and MCIDs are the target's then the sources'.
	ProfileIDs []string
	MCIDs      []string
	// Owners are whom the outcome is emailed to: each profile's owner
	// account's address (else the profile's own), once per address.
	Owners            []UnmergeOwner
	LearningProfileID string
	AccountID         string
}

// UnmergeOwner is an address the undo is emailed to, the name it greets,
// and the MCID of (the first of) the profiles it owns.
type UnmergeOwner struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	MCID  string `json:"mcid"`
}

// UnmergeSubject is the one-line summary of an unmerge case in lists.
func UnmergeSubject(d UnmergeDetails) string {
	var from []string
	for _, p := range d.Profiles {
		if !p.Target {
			from = append(from, p.MCID)
		}
	}
	s := "undo the merge of MCID " + strings.Join(from, ", ") + " into " + d.TargetMCID
	if len(d.Profiles) > 0 && d.Profiles[0].LegalName != "" {
		s = d.Profiles[0].LegalName + " · " + s
	}
	return s
}
