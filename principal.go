package certdesk

import (
	"slices"
	"strings"
)

// Principal is who is calling: a learner's account, an agent or
// supervisor, or a system of record with an integration token. How they
// proved it (a session, a token) is the sign-in's business; what they may
// do is decided from this.
type Principal struct {
	Role      Role
	AccountID string // a learner's account
	AgentID   string // an agent's or supervisor's id
	Email     string
	Name      string
	// IntegrationID is the integration token's id (RoleIntegration), and
	// Scopes what it may write.
	IntegrationID string
	Scopes        []Scope
	// ClientAddr is the caller's address (audit, rate limits).
	ClientAddr string
}

// Actor names the principal on a case's timeline and in the audit log.
func (p *Principal) Actor() Actor {
	switch {
	case p.Role.Staff():
		return AgentActor(p.AgentID)
	case p.Role == RoleIntegration:
		return IntegrationActor(p.IntegrationID)
	}
	return LearnerActor(p.AccountID)
}

// HasScope reports whether an integration may do what the scope allows.
func (p *Principal) HasScope(s Scope) bool {
	return p.Role == RoleIntegration && slices.Contains(p.Scopes, s)
}

// RoleIntegration is a system of record (the certification system, the
// learning site) calling with an integration token. It is never a person:
// no staff or learner route lets it in, and it writes only through the
// integration API, within its token's scopes.
const RoleIntegration Role = "integration"

// IntegrationActor names an integration token in the audit log.
func IntegrationActor(tokenID string) Actor { return Actor("integration:" + tokenID) }

// Scope is what an integration token may write.
type Scope string

const (
	ScopeProfilesWrite Scope = "profiles:write" // certification profiles
	ScopeAccountsWrite Scope = "accounts:write" // accounts
	ScopeSignInsWrite  Scope = "sign-ins:write" // sign-in events
)

// Scopes are every scope, in the order they are shown.
var Scopes = []Scope{ScopeProfilesWrite, ScopeAccountsWrite, ScopeSignInsWrite}

// ParseScopes reads a comma-separated list of scopes ("profiles:write,
// sign-ins:write"): at least one, each known (a repeat counts once). The
// error names the valid ones.
func ParseScopes(list string) ([]Scope, error) {
	var out []Scope
	for _, s := range strings.Split(list, ",") {
		sc := Scope(strings.TrimSpace(s))
		switch {
		case sc == "":
			continue
		case !slices.Contains(Scopes, sc):
			return nil, Errorf(EINVALID, "unknown scope %q: the scopes are %s", sc, JoinScopes(Scopes))
		case !slices.Contains(out, sc):
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "name at least one scope: %s", JoinScopes(Scopes))
	}
	return out, nil
}

// JoinScopes lists scopes as ParseScopes reads them.
func JoinScopes(scopes []Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}
