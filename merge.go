package certdesk

import (
	"slices"
	"strings"
	"time"
)

// A merge case folds duplicate certification profiles into one. Its rules
// live here, as plain functions over the profiles and their records, so the
// preview the agent approves (store.ReviewMerge) and the transaction that
// runs it (store.MergeProfiles) cannot disagree.

// MergeDecisions are the decisions a merge case takes.
var MergeDecisions = []Decision{DecisionApprove, DecisionReject}

// Resolutions of a merge case.
const (
	// MergeMerged: the agent approved and the profiles were merged.
	MergeMerged = "merged"
	// MergeAlreadyMerged: approved, but another case had merged the same
	// profiles into the target meanwhile; nothing moved.
	MergeAlreadyMerged = "already_merged"
	// MergeRejectedByAgent: an agent rejected the merge (with a note).
	MergeRejectedByAgent = "rejected_by_agent"
	// MergeNotMergeable: the profiles changed since the request (merged or
	// connected meanwhile…) and no longer allow it; the reason says how.
	MergeNotMergeable = "not_mergeable"
)

// A merge case's own timeline events.
const (
	EventPreview       EventType = "preview"        // what approving moves
	EventNamesMismatch EventType = "names_mismatch" // the legal names differ: check it is one person
	EventMerged        EventType = "merged"         // written by the merge's own transaction
)

// MaxMergeProfiles bounds one merge request: more duplicates than this is
// a job for several cases.
const MaxMergeProfiles = 10

// MergeFourEyes refuses the approval of a merge by the agent who requested
// it: another agent approves.
func MergeFourEyes(requester Actor, agentID string, d Decision) error {
	if d == DecisionApprove && requester == AgentActor(agentID) {
		return Errorf(ECONFLICT, "four eyes: you requested this merge, so another agent must approve it")
	}
	return nil
}

// Why the merge goes into its target.
const (
	TargetConnected = "connected" // the connected profile: the others can only merge into it
	TargetRequested = "requested" // the requester named it
	TargetOwned     = "owned"     // owned by the personal account the learner signs in with (a connect case's merge)
	TargetOldest    = "oldest"    // nobody named one: the oldest profile
)

// MergeDetails is a merge case's details: the profiles side by side, the
// target, whether the legal names match, and the preview of what moves.
// The API spreads these keys at the top level of the case's JSON.
type MergeDetails struct {
	TargetID     string `json:"target_id"`
	TargetMCID   string `json:"target_mcid"`
	TargetReason string `json:"target_reason"`
	// Profiles lists the target first, then the sources, oldest first.
	Profiles []MergeProfile `json:"profiles"`
	// NamesMatch is false when the legal names differ after NormalizeName:
	// the agent is asked to check they are one person.
	NamesMatch bool         `json:"names_match"`
	Preview    MergePreview `json:"preview"`
	// Note is the requester's note to the agent.
	Note string `json:"note,omitempty"`
	// Result is what the approved merge moved.
	Result *MergeCounts `json:"result,omitempty"`
}

// MergeProfile is one profile of a merge, as the agent compares them.
type MergeProfile struct {
	ID             string    `json:"id"`
	MCID           string    `json:"mcid"`
	LegalName      string    `json:"legal_name"`
	Email          string    `json:"email"`
	OwnerAccountID *string   `json:"owner_account_id,omitempty"`
	Status         string    `json:"status"`
	Connected      bool      `json:"connected"`
	Target         bool      `json:"target"`
	Certifications int       `json:"certifications"`
	Transcript     int       `json:"transcript"`
	CreatedAt      time.Time `json:"created_at"`
}

// MergePreview is what approving the merge does.
type MergePreview struct {
	// Moves lists, per source profile, the records that move to the target.
	Moves []MergeMove `json:"moves"`
	// Duplicates lists the certifications held more than once (same code):
	// the earliest is kept, the others stay as rows marked duplicate_of it.
	Duplicates []MergeDuplicate `json:"duplicates"`
	MergeCounts
}

// MergeCounts counts what a merge moves.
type MergeCounts struct {
	CertificationsMoved int `json:"certifications_moved"`
	TranscriptMoved     int `json:"transcript_moved"`
	DuplicatesCollapsed int `json:"duplicates_collapsed"`
}

// MergeMove is what moves from one source profile.
type MergeMove struct {
	ProfileID      string      `json:"profile_id"`
	MCID           string      `json:"mcid"`
	Certifications []MergeItem `json:"certifications"`
	Transcript     []MergeItem `json:"transcript"`
}

// MergeItem is a certification or an exam, as the preview lists it.
type MergeItem struct {
	ID    string    `json:"id"`
	Code  string    `json:"code"`
	Title string    `json:"title"`
	At    time.Time `json:"at"`
}

// MergeDuplicate is one certification code held more than once.
type MergeDuplicate struct {
	Code string `json:"code"`
	// Keep is the earliest, which stays the certification.
	KeepID   string    `json:"keep_id"`
	KeepMCID string    `json:"keep_mcid"`
	EarnedAt time.Time `json:"earned_at"`
	// Collapse are the others, marked duplicate_of Keep.
	Collapse []string `json:"collapse"`
}

// MergeReview is a merge request checked against the store: the case's
// details, and who the case is about.
type MergeReview struct {
	Details MergeDetails
	// LearnerName and LearnerEmail are the target's legal name and the
	// address the outcome is emailed to (the target's email, else its
	// owner account's).
	LearnerName  string
	LearnerEmail string
	// AccountID and LearningProfileID are the owner the case is about,
	// when known: the target's owner account, or another profile's owner,
	// preferring one with a learning profile.
	AccountID         string
	LearningProfileID string
}

// MergeOutcome is what running a merge did.
type MergeOutcome struct {
	MergeCounts
	// AlreadyMerged is true when the sources were merged into the target
	// before, by another case: nothing moved now.
	AlreadyMerged bool
}

// MergeTarget checks that profiles can be merged and chooses the profile
// they go into: the connected one when there is one (a requested target
// must be it); else the requested one; else the oldest of those owned by
// one of owners (the personal accounts of the learning profile a connect
// case runs for: the learner ends connected to a profile their sign-in
// owns); else the oldest. Every refusal says why, in words the requester
// can act on.
func MergeTarget(profiles []CertificationProfile, requested string, owners []string) (CertificationProfile, string, error) {
	if len(profiles) < 2 {
		return CertificationProfile{}, "", Invalid(map[string]string{"profile_ids": "name at least two different certification profiles"})
	}
	var connected []CertificationProfile
	for _, p := range profiles {
		switch {
		case p.Status == ProfileMerged:
			into := "another profile"
			if p.MergedIntoID != nil {
				into = "profile " + *p.MergedIntoID
			}
			return CertificationProfile{}, "", Errorf(ECONFLICT, "MCID %s is already merged into %s; merge that one instead", p.MCID, into)
		case p.ConnectedLearningProfileID != nil:
			connected = append(connected, p)
		}
	}
	if requested != "" && !slices.ContainsFunc(profiles, func(p CertificationProfile) bool { return p.ID == requested }) {
		return CertificationProfile{}, "", Invalid(map[string]string{"target_id": "must be one of profile_ids"})
	}
	owned := slices.DeleteFunc(slices.Clone(profiles), func(p CertificationProfile) bool {
		return p.OwnerAccountID == nil || !slices.Contains(owners, *p.OwnerAccountID)
	})
	switch {
	case len(connected) > 1:
		return CertificationProfile{}, "", Errorf(ECONFLICT, "MCID %s and MCID %s are both connected to a learning profile; connected profiles cannot be merged", connected[0].MCID, connected[1].MCID)
	case len(connected) == 1 && requested != "" && requested != connected[0].ID:
		return CertificationProfile{}, "", Errorf(ECONFLICT, "MCID %s is connected to a learning profile: the other profiles can only be merged into it (name it as the target, or leave the target out)", connected[0].MCID)
	case len(connected) == 1:
		return connected[0], TargetConnected, nil
	case requested != "":
		i := slices.IndexFunc(profiles, func(p CertificationProfile) bool { return p.ID == requested })
		return profiles[i], TargetRequested, nil
	case len(owned) > 0:
		return oldestProfile(owned), TargetOwned, nil
	}
	return oldestProfile(profiles), TargetOldest, nil
}

func oldestProfile(profiles []CertificationProfile) CertificationProfile {
	return slices.MinFunc(profiles, func(a, b CertificationProfile) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// NamesMatch reports whether every profile has the same legal name after
// NormalizeName (case, accents and spacing aside).
func NamesMatch(profiles []CertificationProfile) bool {
	for _, p := range profiles {
		if NormalizeName(p.LegalName) != NormalizeName(profiles[0].LegalName) {
			return false
		}
	}
	return true
}

// PlanMerge computes what merging the sources into the target moves: every
// certification and exam of the sources, and, per certification code held
// more than once among them all, every row but the earliest collapsed onto
// it. certs and exams are the records of the target and the sources.
func PlanMerge(target CertificationProfile, sources []CertificationProfile, certs []Certification, exams []TranscriptEntry) MergePreview {
	pv := MergePreview{Moves: []MergeMove{}, Duplicates: []MergeDuplicate{}}
	mcid := map[string]string{target.ID: target.MCID}
	for _, src := range sources {
		mcid[src.ID] = src.MCID
		mv := MergeMove{ProfileID: src.ID, MCID: src.MCID, Certifications: []MergeItem{}, Transcript: []MergeItem{}}
		for _, c := range certs {
			if c.ProfileID == src.ID {
				mv.Certifications = append(mv.Certifications, MergeItem{ID: c.ID, Code: c.Code, Title: c.Title, At: c.EarnedAt})
			}
		}
		for _, e := range exams {
			if e.ProfileID == src.ID {
				mv.Transcript = append(mv.Transcript, MergeItem{ID: e.ID, Code: e.ExamCode, Title: e.ExamTitle, At: e.TakenAt})
			}
		}
		pv.CertificationsMoved += len(mv.Certifications)
		pv.TranscriptMoved += len(mv.Transcript)
		pv.Moves = append(pv.Moves, mv)
	}

	byCode := map[string][]Certification{}
	var codes []string
	for _, c := range certs {
		if _, ok := mcid[c.ProfileID]; !ok {
			continue
		}
		code := strings.ToUpper(strings.TrimSpace(c.Code))
		if byCode[code] == nil {
			codes = append(codes, code)
		}
		byCode[code] = append(byCode[code], c)
	}
	slices.Sort(codes) // the plan is the same whatever order the rows came in
	for _, code := range codes {
		group := byCode[code]
		if len(group) < 2 {
			continue
		}
		slices.SortFunc(group, func(a, b Certification) int {
			if c := a.EarnedAt.Compare(b.EarnedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		keep := group[0]
		d := MergeDuplicate{Code: keep.Code, KeepID: keep.ID, KeepMCID: mcid[keep.ProfileID], EarnedAt: keep.EarnedAt, Collapse: []string{}}
		for _, c := range group[1:] {
			if c.DuplicateOfID == nil || *c.DuplicateOfID != keep.ID {
				d.Collapse = append(d.Collapse, c.ID)
			}
		}
		if len(d.Collapse) > 0 {
			pv.DuplicatesCollapsed += len(d.Collapse)
			pv.Duplicates = append(pv.Duplicates, d)
		}
	}
	return pv
}

// MergeSubject is the one-line summary of a merge case in lists.
func MergeSubject(d MergeDetails, learnerName string) string {
	var from []string
	for _, p := range d.Profiles {
		if !p.Target {
			from = append(from, p.MCID)
		}
	}
	s := "merge MCID " + strings.Join(from, ", ") + " into " + d.TargetMCID
	if learnerName != "" {
		s = learnerName + " · " + s
	}
	return s
}
