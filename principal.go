package certdesk

// Principal is who is calling: a learner's account, or an agent or
// supervisor. How they proved it (a session, a token) is the sign-in's
// business; what they may do is decided from this.
type Principal struct {
	Role      Role
	AccountID string // a learner's account
	AgentID   string // an agent's or supervisor's id
	Email     string
	Name      string
	// ClientAddr is the caller's address (audit, rate limits).
	ClientAddr string
}

// Actor names the principal on a case's timeline.
func (p *Principal) Actor() Actor {
	if p.Role.Staff() {
		return AgentActor(p.AgentID)
	}
	return LearnerActor(p.AccountID)
}
