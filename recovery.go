package certdesk

import (
	"slices"
	"time"
)

// RecoveryDecisions are the decisions a recovery case takes.
var RecoveryDecisions = []Decision{DecisionApprove, DecisionRequestInfo, DecisionReject}

// Resolutions of a recovery case.
const (
	ResolutionRecovered        = "recovered"
	ResolutionRejected         = "rejected"
	ResolutionUnverified       = "unverified"
	ResolutionCancelledByOwner = "cancelled_by_owner"
	ResolutionRebindRefused    = "rebind_refused"
)

// A recovery case's own timeline events.
const (
	EventVerificationSent   EventType = "verification_sent"
	EventVerified           EventType = "verified"
	EventInfoRequested      EventType = "info_requested"
	EventReplied            EventType = "replied"
	EventNoReply            EventType = "no_reply"
	EventCoolingOff         EventType = "cooling_off"
	EventNoticesSent        EventType = "notices_sent"
	EventNoticesUndelivered EventType = "notices_undelivered"
)

// RecoveryApproval checks an approval against the case: it names one of the
// candidate profiles, and the new account can own a profile.
func RecoveryApproval(d RecoveryDetails, profileID string) error {
	if len(d.Candidates) == 0 {
		return Errorf(ECONFLICT, "no certification profile matches this request: reject it, or ask the learner for more information")
	}
	if profileID == "" {
		return Errorf(ECONFLICT, "name the profile to recover: profile_id, one of the case's candidates")
	}
	if n := d.NewAccount; n != nil && n.Known && n.Kind != AccountPersonal {
		return Errorf(ECONFLICT, "the new account is a %s account and a certification profile needs a personal one: reject the request, saying so (the learner can send a new one)", n.Kind)
	}
	if !slices.ContainsFunc(d.Candidates, func(c RecoveryCandidate) bool { return c.ProfileID == profileID }) {
		return Errorf(ECONFLICT, "profile %q is not one of this case's candidates", profileID)
	}
	return nil
}

// RecoveryDetails is what a recovery case adds to its projection (the
// case's Details): the public request, whether its contact address was
// verified, the certification profiles it may be about with the evidence,
// the agent's questions and the learner's answers, and, once approved, the
// chosen profile and the end of the cooling-off.
type RecoveryDetails struct {
	Claim      RecoveryClaim       `json:"claim"`
	Verified   bool                `json:"verified"`
	VerifiedAt *time.Time          `json:"verified_at,omitempty"`
	Candidates []RecoveryCandidate `json:"candidates"`
	// NewAccount is what certdesk knew, at verification, of the account
	// the profile is to move to.
	NewAccount *RecoveryNewAccount `json:"new_account,omitempty"`
	// InfoRequests are the agent's request_info rounds, oldest first.
	InfoRequests     []InfoRequest `json:"info_requests"`
	ChosenProfileID  string        `json:"chosen_profile_id,omitempty"`
	ChosenMCID       string        `json:"chosen_mcid,omitempty"`
	CoolingOffEndsAt *time.Time    `json:"cooling_off_ends_at,omitempty"`
	// Notified counts the addresses on file told of the recovery (with a
	// "this wasn't me" link); their addresses stay out of the details.
	Notified int `json:"notified,omitempty"`
}

// RecoveryClaim is what the public recovery form asks. Nothing in it is
// trusted: the contact address is verified by a link, the rest is evidence
// for an agent.
type RecoveryClaim struct {
	LegalName    string `json:"legal_name"`
	ContactEmail string `json:"contact_email"`
	MCID         string `json:"mcid,omitempty"`
	// PreviousEmail is the sign-in the learner lost.
	PreviousEmail string `json:"previous_email,omitempty"`
	// NewAccountEmail is the personal account to bind the profile to.
	NewAccountEmail string `json:"new_account_email"`
	Description     string `json:"description"`
	// Exam is the code of an exam the learner says they passed on the
	// lost profile.
	Exam string `json:"exam,omitempty"`
}

// RecoveryCandidate is a certification profile a recovery claim points at.
type RecoveryCandidate struct {
	ProfileID string `json:"profile_id"`
	MCID      string `json:"mcid"`
	LegalName string `json:"legal_name"`
	// Strength sums the evidence up: StrengthStrong, StrengthMedium or
	// StrengthWeak (see RecoveryStrength).
	Strength string     `json:"strength"`
	Evidence []Evidence `json:"evidence"`
	// OwnerStatus is the status of the account that owns the profile
	// (inactive is the usual reason for a recovery).
	OwnerStatus string `json:"owner_status,omitempty"`
	// Recent lists the cases about the profile in the last RecentWindow,
	// newest first; Flags what they did to it (Flag* values): a profile
	// recovered, merged or connected lately is a warning sign.
	Recent []RecentCase `json:"recent,omitempty"`
	Flags  []string     `json:"flags,omitempty"`
}

// RecentCase is a case about a recovery candidate in the last days.
type RecentCase struct {
	ID         string    `json:"id"`
	Kind       Kind      `json:"kind"`
	Status     Status    `json:"status"`
	Resolution string    `json:"resolution,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// RecentWindow is how far back a recovery's agent is shown a candidate's
// cases.
const RecentWindow = 90 * 24 * time.Hour

// Flags on a recovery candidate.
const (
	FlagRecentlyRecovered = "recently_recovered" // a recovery of it completed, or is in its cooling-off
	FlagRecentlyMerged    = "recently_merged"    // a merge into or from it completed
	FlagRecentlyConnected = "recently_connected" // it was connected to a learning profile
)

// RecoveryNewAccount is what certdesk knows of the account a recovery asks
// to bind the profile to: unknown (it is created at completion), or an
// account of some kind and status (only a personal account can own a
// profile).
type RecoveryNewAccount struct {
	Email  string `json:"email"`
	Known  bool   `json:"known"`
	Kind   string `json:"kind,omitempty"`
	Status string `json:"status,omitempty"`
}

// Evidence is one thing that ties a claim to a profile.
type Evidence struct {
	Kind   string `json:"kind"`   // one of the Evidence* kinds
	Detail string `json:"detail"` // in words, for the agent
}

// Evidence kinds.
const (
	// EvidenceMCID: the MCID given is the profile's (or one merged into it).
	// MCIDs are printed on certificates and transcripts people share: on
	// its own it proves little.
	EvidenceMCID = "mcid"
	// EvidenceLegalName: the legal names are equal after NormalizeName.
	EvidenceLegalName = "legal_name"
	// EvidencePreviousEmail: the lost sign-in is the profile's email or the
	// email of the account that owns it.
	EvidencePreviousEmail = "previous_email"
	// EvidenceContactEmail: the contact address, which the requester
	// proved they read, is the profile's email or its owner's.
	EvidenceContactEmail = "contact_email"
	// EvidenceExam: an exam the requester names was passed on the profile.
	EvidenceExam = "exam"
)

// Strengths of a candidate, strongest first.
const (
	StrengthStrong = "strong"
	StrengthMedium = "medium"
	StrengthWeak   = "weak"
)

// RecoveryStrength sums up the evidence for a candidate by what only the
// profile's owner knows or controls, never by what anyone can read off a
// shared certificate (the MCID and the name):
//
//   - strong: the requester proved they read an address on file (the
//     verified contact address is the profile's or its owner's, with the
//     legal name), or knows both the lost sign-in and an exam they passed;
//   - medium: the legal name with the lost sign-in, or with an exam passed;
//   - weak: anything less — the MCID and the legal name alone are weak.
//
// A profile recovered lately (flags) is never strong: the last recovery
// may have been the attack this one undoes, or the other way round.
func RecoveryStrength(ev []Evidence, flags []string) string {
	has := map[string]bool{}
	for _, e := range ev {
		has[e.Kind] = true
	}
	s := StrengthWeak
	switch {
	case has[EvidenceContactEmail] && has[EvidenceLegalName],
		has[EvidencePreviousEmail] && has[EvidenceExam] && has[EvidenceLegalName]:
		s = StrengthStrong
	case has[EvidenceLegalName] && (has[EvidencePreviousEmail] || has[EvidenceExam]):
		s = StrengthMedium
	}
	if s == StrengthStrong && slices.Contains(flags, FlagRecentlyRecovered) {
		s = StrengthMedium
	}
	return s
}

// StrengthRank orders strengths: 0 for strong, 1 medium, 2 weak.
func StrengthRank(s string) int {
	switch s {
	case StrengthStrong:
		return 0
	case StrengthMedium:
		return 1
	}
	return 2
}

// InfoRequest is one request_info round of a recovery case.
type InfoRequest struct {
	Round   int       `json:"round"`
	Step    string    `json:"step"`
	Message string    `json:"message"`
	AgentID string    `json:"agent_id"`
	AskedAt time.Time `json:"asked_at"`
	// Reply is the learner's answer, empty until it comes.
	Reply     string     `json:"reply,omitempty"`
	RepliedAt *time.Time `json:"replied_at,omitempty"`
	// NoReply is set when the wait for an answer ran out.
	NoReply bool `json:"no_reply,omitempty"`
}

// ProfileAddresses are the addresses on file for a certification profile.
type ProfileAddresses struct {
	ProfileID string
	MCID      string
	LegalName string
	// Emails is sorted and without repeats.
	Emails []string
}

// Rebinding is what binding a recovered profile to its new account did.
type Rebinding struct {
	ProfileID       string
	MCID            string
	AccountID       string
	PreviousOwnerID string
	// AccountCreated: certdesk did not know the account and created it.
	AccountCreated bool
	// Reactivated: the account was inactive and is active again.
	Reactivated bool
	// AlreadyBound: the profile was bound to the account before (a retry).
	AlreadyBound bool
}
