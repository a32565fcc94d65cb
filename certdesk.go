// Package certdesk holds the domain types every other package shares: case
// kinds and statuses, roles, actors, decisions and the error type.
package certdesk

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind is the kind of a support case. Each kind is one workflow type.
type Kind string

const (
	KindConnect  Kind = "connect"
	KindMerge    Kind = "merge"
	KindRecovery Kind = "recovery"
)

// Kinds lists every case kind, in the order the console shows them.
var Kinds = []Kind{KindConnect, KindMerge, KindRecovery, KindUnmerge, KindInquiry}

// Status is where a case is in its life.
type Status string

const (
	StatusOpen            Status = "open"
	StatusAwaitingLearner Status = "awaiting_learner"
	StatusAwaitingAgent   Status = "awaiting_agent"
	StatusCoolingOff      Status = "cooling_off"
	StatusCompleted       Status = "completed"
	StatusRejected        Status = "rejected"
	StatusCancelled       Status = "cancelled"
	StatusExpired         Status = "expired"
	StatusFailed          Status = "failed"
)

// Statuses lists every status, open ones first.
var Statuses = []Status{
	StatusOpen, StatusAwaitingLearner, StatusAwaitingAgent, StatusCoolingOff,
	StatusCompleted, StatusRejected, StatusCancelled, StatusExpired, StatusFailed,
}

// ResolutionWorkflowFailed is the resolution of a case whose workflow failed
// for a reason nobody planned for (its timeline says which); supervisors
// are told.
const ResolutionWorkflowFailed = "workflow_failed"

// Terminal reports whether a case in this status has ended.
func (s Status) Terminal() bool {
	switch s {
	case StatusCompleted, StatusRejected, StatusCancelled, StatusExpired, StatusFailed:
		return true
	}
	return false
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Role is what a signed-in person may do.
type Role string

const (
	RoleLearner    Role = "learner"
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
)

// Staff reports whether the role works cases (agents and supervisors).
func (r Role) Staff() bool { return r == RoleAgent || r == RoleSupervisor }

// Actor names who did something on a case: "system", "agent:<id>",
// "learner:<id>" (an account id), "owner:<profile id>" (an address on file
// of a certification profile), "email:<address>" (who wrote by email) or
// "public" (an anonymous requester).
type Actor string

const (
	ActorSystem Actor = "system"
	ActorPublic Actor = "public"
)

func AgentActor(agentID string) Actor     { return Actor("agent:" + agentID) }
func LearnerActor(accountID string) Actor { return Actor("learner:" + accountID) }

// OwnerActor is whoever reads an address on file of a certification
// profile (its owner, as far as anyone can tell): who uses a recovery's
// "this wasn't me" link.
func OwnerActor(profileID string) Actor { return Actor("owner:" + profileID) }

// EmailActor is whoever wrote from an address, by email.
func EmailActor(address string) Actor { return Actor("email:" + address) }

// Email returns the address of an email actor.
func (a Actor) Email() (string, bool) { return strings.CutPrefix(string(a), "email:") }

// Owner returns the profile id of an owner actor.
func (a Actor) Owner() (string, bool) { return strings.CutPrefix(string(a), "owner:") }

// Agent returns the agent id of an agent actor.
func (a Actor) Agent() (string, bool) { return strings.CutPrefix(string(a), "agent:") }

// Learner returns the account id of a learner actor.
func (a Actor) Learner() (string, bool) { return strings.CutPrefix(string(a), "learner:") }

// Decision is what an agent decides on a case awaiting them.
type Decision string

const (
	DecisionApprove     Decision = "approve"
	DecisionReject      Decision = "reject"
	DecisionRequestInfo Decision = "request_info"
)

// Account kinds and statuses.
const (
	AccountPersonal = "personal"
	AccountWork     = "work"

	AccountActive   = "active"
	AccountInactive = "inactive"
)

// Certification profile statuses.
const (
	ProfileActive = "active"
	ProfileMerged = "merged"
)

// Durations of the case rules; each is configurable (see config).
const (
	DefaultAgentSLA    = 48 * time.Hour
	DefaultCoolingOff  = 72 * time.Hour
	DefaultVerifyTTL   = 24 * time.Hour
	DefaultLearnerWait = 14 * 24 * time.Hour
)

// NormalizeName puts a legal name in the form names are compared in: lower
// case, accents removed, runs of spaces (and hyphens, dots, commas) as one
// space. "José  Álvarez-Núñez" and "jose alvarez nunez" compare equal.
func NormalizeName(s string) string {
	var b strings.Builder
	space := true // drops leading separators
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}
