package certdesk

import (
	"encoding/json"
	"time"
)

// Account is a sign-in identity of a learner: a personal (MSA-like) or a
// work/school account. An account unused for two years becomes inactive.
type Account struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Kind         string     `json:"kind"` // AccountPersonal or AccountWork
	DisplayName  string     `json:"display_name"`
	Status       string     `json:"status"` // AccountActive or AccountInactive
	LastSignInAt *time.Time `json:"last_sign_in_at,omitempty"`
	// LearningProfileID is the learning profile the account signs in to or
	// was added to; nil for an account no learning profile knows.
	LearningProfileID *string `json:"learning_profile_id,omitempty"`
	// OIDCSubject is the identity provider's subject, once matched.
	OIDCSubject *string   `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// LearningProfile is where a learner studies; its accounts are the ones that
// sign in to it (the first) or were added in its settings.
type LearningProfile struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	// MadeAtSignIn marks a learning profile certdesk made at an account's
	// first sign-in: its account may still move to its owner's main one.
	MadeAtSignIn bool `json:"-"`
}

// CertificationProfile holds a learner's legal name, MCID, certifications and
// exam transcript. At most one is connected to a learning profile.
type CertificationProfile struct {
	ID             string  `json:"id"`
	MCID           string  `json:"mcid"`
	LegalName      string  `json:"legal_name"`
	Email          string  `json:"email"`
	OwnerAccountID *string `json:"owner_account_id,omitempty"`
	Status         string  `json:"status"` // ProfileActive or ProfileMerged
	MergedIntoID   *string `json:"merged_into,omitempty"`
	// ConnectedLearningProfileID is set once the profile is connected.
	ConnectedLearningProfileID *string    `json:"connected_learning_profile_id,omitempty"`
	ConnectedAt                *time.Time `json:"connected_at,omitempty"`
	CreatedAt                  time.Time  `json:"created_at"`
	UpdatedAt                  time.Time  `json:"updated_at"`
}

// Certification is one credential earned on a profile. A merge collapses
// duplicates (same code) to the earliest; the others keep DuplicateOfID.
type Certification struct {
	ID            string     `json:"id"`
	ProfileID     string     `json:"profile_id"`
	Code          string     `json:"code"`
	Title         string     `json:"title"`
	EarnedAt      time.Time  `json:"earned_at"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	DuplicateOfID *string    `json:"duplicate_of,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

// TranscriptEntry is one exam taken.
type TranscriptEntry struct {
	ID        string    `json:"id"`
	ProfileID string    `json:"profile_id"`
	ExamCode  string    `json:"exam_code"`
	ExamTitle string    `json:"exam_title"`
	Score     int       `json:"score"`
	Passed    bool      `json:"passed"`
	TakenAt   time.Time `json:"taken_at"`
	CreatedAt time.Time `json:"created_at"`
}

// Agent is a support agent or supervisor.
type Agent struct {
	ID          string  `json:"id"`
	Email       string  `json:"email"`
	Name        string  `json:"name"`
	Role        Role    `json:"role"`
	OIDCSubject *string `json:"-"`
	// Source says who decides the role: StaffFromProvider (the identity
	// provider's app roles, at each sign-in) or StaffByHand (certdesk
	// staff).
	Source string `json:"source"`
	// DisabledAt is set when the member may no longer use certdesk; their
	// sessions and tokens stop at once. DisabledReason is
	// StaffRoleRemoved or StaffDisabled.
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	LastSignInAt   *time.Time `json:"last_sign_in_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Where a staff member's role comes from, and why one was disabled.
const (
	StaffByHand       = "manual"
	StaffFromProvider = "oidc"
	// StaffRoleRemoved: the identity provider stopped giving the member a
	// staff role; a sign-in with the role again enables them.
	StaffRoleRemoved = "removed_role"
	// StaffDisabled: a person disabled the member; only `certdesk staff
	// enable` undoes it, whatever the provider says.
	StaffDisabled = "disabled"
)

// Active reports whether the member may use certdesk.
func (a Agent) Active() bool { return a.DisabledAt == nil }

// Case is the store's projection of a case's workflow, plus what the console
// needs to list and search it.
type Case struct {
	ID             string `json:"id"`
	Kind           Kind   `json:"kind"`
	Status         Status `json:"status"`
	Resolution     string `json:"resolution"`
	Escalated      bool   `json:"escalated"`
	Unreachable    bool   `json:"unreachable"`
	SecurityReview bool   `json:"security_review"`
	// Subject is a one-line summary for lists ("Ben Okafor · MCID 100002").
	Subject string `json:"subject"`
	// LearnerName and LearnerEmail are who the case is about, for search.
	LearnerName  string `json:"learner_name"`
	LearnerEmail string `json:"learner_email"`
	// LearningProfileID and AccountID link the case to the learner it is
	// about, when known; ProfileIDs and MCIDs to the certification profiles
	// involved (the console searches them).
	LearningProfileID *string    `json:"learning_profile_id,omitempty"`
	AccountID         *string    `json:"account_id,omitempty"`
	ProfileIDs        []string   `json:"profile_ids,omitempty"`
	MCIDs             []string   `json:"mcids,omitempty"`
	Requester         Actor      `json:"requester"`
	AssigneeID        *string    `json:"assignee,omitempty"`
	ParentCaseID      *string    `json:"parent_case_id,omitempty"`
	SLADueAt          *time.Time `json:"sla_due_at,omitempty"`
	WorkflowID        string     `json:"workflow_id"`
	RunID             string     `json:"run_id,omitempty"`
	// Version grows by one with every change; the timeline's seq is it.
	Version int64 `json:"version"`
	// WorkflowStep is the last workflow transition applied, so a retried
	// or replayed write is a no-op.
	WorkflowStep int64 `json:"-"`
	// Details holds what the kind adds: a merge's preview, a recovery's
	// claim and candidates, a connect's accounts and profiles found.
	Details   json.RawMessage `json:"details"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	ClosedAt  *time.Time      `json:"closed_at,omitempty"`
}

// CaseEvent is one entry of a case's append-only timeline.
type CaseEvent struct {
	CaseID string          `json:"-"`
	Seq    int64           `json:"seq"`
	At     time.Time       `json:"at"`
	Actor  Actor           `json:"actor"`
	Type   EventType       `json:"type"`
	Data   json.RawMessage `json:"data"`
}
