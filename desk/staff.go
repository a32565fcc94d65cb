package desk

import (
	"context"

	"github.com/certdesk/certdesk"
)

// Staff lists every member for a supervisor: role, where it comes from,
// status and last sign-in.
func (s *Desk) Staff(ctx context.Context, p *certdesk.Principal) ([]certdesk.Agent, error) {
	if p == nil || p.Role != certdesk.RoleSupervisor {
		return nil, certdesk.Errorf(certdesk.EFORBIDDEN, "the staff list is for supervisors")
	}
	return s.store.Staff(ctx)
}

// DisableAgent is a supervisor disabling an agent (not a supervisor, not
// themselves: that is `certdesk staff`): their sessions and tokens stop at
// once and their claimed cases go back to the queue. Audited.
func (s *Desk) DisableAgent(ctx context.Context, p *certdesk.Principal, agentID string) (a certdesk.Agent, err error) {
	defer func() {
		s.auditAction(ctx, p, "disable_staff", certdesk.Case{}, map[string]any{"agent": agentID}, err)
	}()
	if p == nil || p.Role != certdesk.RoleSupervisor {
		return a, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor disables an agent")
	}
	if a, err = s.store.Agent(ctx, agentID); err != nil {
		return a, err
	}
	switch {
	case a.Role != certdesk.RoleAgent:
		return a, certdesk.Errorf(certdesk.EFORBIDDEN, "a supervisor is disabled with `certdesk staff disable`, not from the console")
	case !a.Active():
		return a, nil
	}
	return s.store.DisableStaff(ctx, a.Email)
}
