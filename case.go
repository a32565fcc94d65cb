package certdesk

import (
	"slices"
	"strings"
)

// The rules every case kind shares: its timeline's event types, what an
// agent's decision must carry, and what a viewer may decide now. Each kind
// adds its own in its file (connect.go, merge.go, recovery.go); the
// workflows' validators, the API and the console all read them from there.

// EventType is the type of one entry of a case's timeline.
type EventType string

// Event types every kind writes. The kinds' own are in their files.
const (
	EventOpened          EventType = "opened"
	EventAwaitingAgent   EventType = "awaiting_agent"
	EventAwaitingLearner EventType = "awaiting_learner"
	EventDecided         EventType = "decided"
	EventEscalated       EventType = "escalated"
	EventLinkUsed        EventType = "link_used"
	EventRejected        EventType = "rejected"
	EventExpired         EventType = "expired"
	EventCompleted       EventType = "completed"
	EventCancelled       EventType = "cancelled"
	EventFailed          EventType = "failed"

	// Written by agents through the API, and by delivery reports.
	EventClaimed   EventType = "claimed"
	EventAssigned  EventType = "assigned"
	EventTakenOver EventType = "taken_over"
	// EventReleased: the claim went back to the queue because its holder
	// left the staff (disabled, or their role removed).
	EventReleased              EventType = "released"
	EventNote                  EventType = "note"
	EventSecurityReviewCleared EventType = "security_review_cleared"
	EventEmailFailed           EventType = "email_failed"
	EventEmailBounced          EventType = "email_bounced"
)

// Limits of what people write on a case.
const (
	// MaxNote bounds a decision's note, an internal note, a reply and a
	// recovery request's description.
	MaxNote = 4000
)

// Decisions lists the decisions a kind takes while it awaits an agent
// (none for a kind that never does).
func (k Kind) Decisions() []Decision {
	switch k {
	case KindMerge:
		return MergeDecisions
	case KindRecovery:
		return RecoveryDecisions
	case KindUnmerge:
		return UnmergeDecisions
	case KindInquiry:
		return InquiryDecisions
	}
	return nil
}

// DecisionRequest is an agent's decision on a case, as every kind checks it.
type DecisionRequest struct {
	Decision Decision
	Note     string
	// ProfileID names the profile a recovery is approved for.
	ProfileID string
	AgentID   string
	Role      Role
	// ClientAddr is where the agent decided from: the audit row that the
	// decision's own transaction writes names it.
	ClientAddr string `json:",omitempty"`
	// ConvertedTo and ConvertedKind name the case an inquiry became
	// (DecisionConvert).
	ConvertedTo   string `json:",omitempty"`
	ConvertedKind Kind   `json:",omitempty"`
}

// AuditData is what the audit log keeps of a decision (its outcome is
// added where it is known).
func (in DecisionRequest) AuditData() map[string]any {
	return map[string]any{"decision": in.Decision, "note": in.Note, "profile_id": in.ProfileID}
}

// CheckDecision is the part of a decision's rules that holds for every
// kind: staff decide, the decision is one the kind takes, and a rejection
// or a question says something (the learner is told). The kind's own rules
// come after (MergeFourEyes, RecoveryApproval). A refusal is ECONFLICT,
// written for the agent.
func CheckDecision(k Kind, in DecisionRequest) error {
	if !in.Role.Staff() || in.AgentID == "" {
		return Errorf(ECONFLICT, "only agents decide cases")
	}
	allowed := k.Decisions()
	if !slices.Contains(allowed, in.Decision) {
		return Errorf(ECONFLICT, "%q is not a decision this case takes (it takes %s)", in.Decision, joinDecisions(allowed))
	}
	note := strings.TrimSpace(in.Note)
	switch {
	case in.Decision == DecisionReject && note == "":
		return Errorf(ECONFLICT, "a rejection needs a note saying why (the learner is told)")
	case in.Decision == DecisionRequestInfo && note == "":
		return Errorf(ECONFLICT, "say what information you need: the note is emailed to the learner")
	case len(note) > MaxNote:
		return Errorf(ECONFLICT, "the note is longer than %d characters", MaxNote)
	}
	return nil
}

func joinDecisions(ds []Decision) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

// Offer says which decisions a staff member may take on a case now, and
// why one is held back (four-eyes, a claim by someone else): what the
// console offers. The workflow's validator has the last word.
func Offer(c Case, agentID string, role Role) (decisions []Decision, why string) {
	if c.Status != StatusAwaitingAgent || !role.Staff() {
		return nil, ""
	}
	if HeldByAnother(c, agentID, role) {
		return nil, "claimed by someone else: take it over to decide it"
	}
	for _, d := range c.Kind.Decisions() {
		if d == DecisionConvert {
			continue // a form of its own: the new case's kind and subject (the desk's Convert)
		}
		if FourEyes(c.Kind, c.Requester, agentID, d) != nil {
			why = "You asked for this " + string(c.Kind) + ", so another staff member approves it (four-eyes)."
			continue
		}
		decisions = append(decisions, d)
	}
	return decisions, why
}

// HeldByAnother reports whether another agent claimed the case: a claim
// binds, so the caller takes the case over (on the record) before deciding
// it. Supervisors decide any case.
func HeldByAnother(c Case, agentID string, role Role) bool {
	return c.AssigneeID != nil && *c.AssigneeID != agentID && role != RoleSupervisor
}
