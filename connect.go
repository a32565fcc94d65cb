package certdesk

import "time"

// Resolutions of a connect case: how it ended, beside its status.
const (
	ConnectConnected          = "connected"                // completed: the profile is connected now
	ConnectAlreadyConnected   = "already_connected"        // completed: the learning profile had a connected profile
	ConnectNoProfile          = "no_certification_profile" // rejected: no personal account of the learner owns a profile
	ConnectConnectedElsewhere = "connected_elsewhere"      // rejected: the profile is connected to another learning profile
	ConnectNotOwned           = "not_owned"                // rejected: the profile is not (or no longer) the learner's
	ConnectProfileNotActive   = "profile_not_active"       // rejected: the profile was merged into another meanwhile
	ConnectMergeRejected      = "merge_rejected"           // rejected: the merge of the duplicates was rejected
	ConnectMergeFailed        = "merge_failed"             // failed: the merge of the duplicates failed
	ConnectFailed             = "connect_failed"           // failed: the connection could not be written
	ConnectExpired            = "expired"                  // expired: the personal account was never added
)

// A connect case's own timeline events.
const (
	EventAccountAdded     EventType = "account_added"
	EventProfilesFound    EventType = "profiles_found"
	EventMergeStarted     EventType = "merge_started"
	EventMergeFinished    EventType = "merge_finished"
	EventConnected        EventType = "connected"
	EventAlreadyConnected EventType = "already_connected"
)

// What a connect case can be waiting for (ConnectDetails.WaitingFor).
const (
	WaitPersonalAccount = "personal_account" // the learner adds the personal account
	WaitMerge           = "merge"            // the merge case of the duplicates ends
)

// How a certification profile was found (ConnectProfile.Found).
const (
	FoundOwned     = "owned"     // owned by a personal account of the learning profile
	FoundDuplicate = "duplicate" // a likely duplicate of an owned profile
	FoundSurvivor  = "survivor"  // what a merge left of the profiles found
)

// ConnectDetails is what a connect case shows beside its status (the case's
// Details): the learning profile's accounts, the certification profiles
// found, and what the case waits for.
type ConnectDetails struct {
	Accounts []ConnectAccount `json:"accounts"`
	Profiles []ConnectProfile `json:"profiles"`
	// WaitingFor is empty when the case waits for nothing.
	WaitingFor string     `json:"waiting_for,omitempty"`
	WaitUntil  *time.Time `json:"wait_until,omitempty"`
	// MergeCaseID is the child merge case, once one runs.
	MergeCaseID        string `json:"merge_case_id,omitempty"`
	ConnectedProfileID string `json:"connected_profile_id,omitempty"`
	ConnectedMCID      string `json:"connected_mcid,omitempty"`
	// Reason says in words why the case was rejected, expired or failed.
	Reason string `json:"reason,omitempty"`
}

// ConnectAccount is an account of the learning profile, as a connect case
// saw it.
type ConnectAccount struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// ConnectProfile is a certification profile a connect case found.
type ConnectProfile struct {
	ID        string `json:"id"`
	MCID      string `json:"mcid"`
	LegalName string `json:"legal_name"`
	Status    string `json:"status"`
	Found     string `json:"found"`
	// ConnectedElsewhere is true when another learning profile has it.
	ConnectedElsewhere bool `json:"connected_elsewhere,omitempty"`
}

// ConnectSubject is a connect case's one-line summary for lists.
func ConnectSubject(learnerName string, mcids ...string) string {
	s := learnerName + " · connect"
	for i, m := range mcids {
		if i == 0 {
			s += " · MCID " + m
		} else {
			s += ", " + m
		}
	}
	return s
}
