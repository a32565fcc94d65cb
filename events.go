package certdesk

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Domain events: what certdesk tells the systems of record. Each domain
// change writes one in the same transaction as the change (the store's
// outbox); subscribers receive them as Standard Webhooks. This file is the
// catalogue: the types, their payloads, and which events keep their order
// together.

// DomainEventType names a domain event ("certification_profile.merged").
type DomainEventType string

// The catalogue. A new type is added here, in the OpenAPI document's
// webhooks section and in the README's "Domain events".
const (
	EventProfileConnected   DomainEventType = "certification_profile.connected"
	EventProfileMerged      DomainEventType = "certification_profile.merged"
	EventProfileUnmerged    DomainEventType = "certification_profile.unmerged"
	EventProfileRebound     DomainEventType = "certification_profile.rebound"
	EventAccountInactive    DomainEventType = "account.inactive"
	EventAccountReactivated DomainEventType = "account.reactivated"
	EventCaseOpened         DomainEventType = "case.opened"
	EventCaseEnded          DomainEventType = "case.ended"
)

// DomainEventTypes is every type, in the catalogue's order.
var DomainEventTypes = []DomainEventType{
	EventProfileConnected, EventProfileMerged, EventProfileUnmerged, EventProfileRebound,
	EventAccountInactive, EventAccountReactivated, EventCaseOpened, EventCaseEnded,
}

// DomainEventVersion is the version of every payload; a change a receiver
// could trip on is a new version.
const DomainEventVersion = 1

// DomainEvent is one event as it is stored and delivered. OrderKey groups
// the events whose order a subscriber keeps: a certification profile's
// (by its id), an account's, a case's. DedupeKey makes writing it
// idempotent: a retried step that writes the same change writes nothing.
type DomainEvent struct {
	ID        string          `json:"id"`
	Seq       int64           `json:"-"`
	Type      DomainEventType `json:"type"`
	Version   int             `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	OrderKey  string          `json:"-"`
	DedupeKey string          `json:"-"`
	Data      json.RawMessage `json:"data"`
}

// Body is the event as a subscriber receives it:
// {"id","type","version","created_at","data"}.
func (e DomainEvent) Body() ([]byte, error) {
	e.CreatedAt = e.CreatedAt.UTC()
	return json.Marshal(e)
}

// ProfileRef names a certification profile in a payload.
type ProfileRef struct {
	ID   string `json:"id"`
	MCID string `json:"mcid"`
}

// AccountRef names an account in a payload.
type AccountRef struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// ProfileConnectedData is certification_profile.connected's data.
type ProfileConnectedData struct {
	CertificationProfile ProfileRef `json:"certification_profile"`
	LearningProfileID    string     `json:"learning_profile_id"`
	ConnectedAt          time.Time  `json:"connected_at"`
}

// ProfileMergedData is certification_profile.merged's data: the sources now
// point at the target, which holds what they had.
type ProfileMergedData struct {
	CaseID  string       `json:"case_id"`
	Target  ProfileRef   `json:"target"`
	Sources []ProfileRef `json:"sources"`
	MergeCounts
}

// ProfileUnmergedData is certification_profile.unmerged's data: a merge was
// undone; the sources are active again with what they had before it.
type ProfileUnmergedData struct {
	CaseID      string       `json:"case_id"`
	MergeCaseID string       `json:"merge_case_id"`
	Target      ProfileRef   `json:"target"`
	Sources     []ProfileRef `json:"sources"`
	UnmergeCounts
}

// ProfileReboundData is certification_profile.rebound's data: a recovery bound
// the profile to a new personal account.
type ProfileReboundData struct {
	CertificationProfile ProfileRef  `json:"certification_profile"`
	PreviousAccount      *AccountRef `json:"previous_account"`
	Account              AccountRef  `json:"account"`
	AccountCreated       bool        `json:"account_created"`
}

// AccountChangedData is account.inactive's and account.reactivated's data.
type AccountChangedData struct {
	Account AccountRef `json:"account"`
	Status  string     `json:"status"`
	// Reason: "unused" (inactive after two years) or "recovery"
	// (reactivated by a completed recovery).
	Reason string `json:"reason"`
}

// CaseChangedData is case.opened's and case.ended's data.
type CaseChangedData struct {
	CaseID     string   `json:"case_id"`
	Kind       Kind     `json:"kind"`
	Status     Status   `json:"status"`
	Resolution string   `json:"resolution,omitempty"`
	MCIDs      []string `json:"mcids"`
}

// NewDomainEvent builds an event of a type; data is its payload struct.
func NewDomainEvent(t DomainEventType, at time.Time, orderKey, dedupeKey string, data any) (DomainEvent, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return DomainEvent{}, err
	}
	return DomainEvent{ID: "evt_" + IDAt(at), Type: t, Version: DomainEventVersion, CreatedAt: at.UTC(),
		OrderKey: orderKey, DedupeKey: dedupeKey, Data: b}, nil
}

// MatchEventPattern reports whether a subscriber's pattern takes an event
// type: the type itself, "group.*" or "*".
func MatchEventPattern(pattern string, t DomainEventType) bool {
	if pattern == "*" || pattern == string(t) {
		return true
	}
	group, ok := strings.CutSuffix(pattern, ".*")
	return ok && strings.HasPrefix(string(t), group+".")
}

// ParseEventPatterns checks a comma-separated list of patterns: each must
// match at least one type of the catalogue. The patterns come back
// trimmed, without repeats.
func ParseEventPatterns(list string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.ContainsFunc(DomainEventTypes, func(t DomainEventType) bool { return MatchEventPattern(p, t) }) {
			return nil, Errorf(EINVALID, "%q matches no event type (the types: %s; a group: certification_profile.*; all: *)", p, joinTypes())
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "name the events to deliver, e.g. 'certification_profile.*' or '*'")
	}
	return out, nil
}

// MatchesAny reports whether any of the patterns takes the type.
func MatchesAny(patterns []string, t DomainEventType) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return MatchEventPattern(p, t) })
}

func joinTypes() string {
	s := make([]string, len(DomainEventTypes))
	for i, t := range DomainEventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
