package desk

import (
	"context"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// PersonalData is a person's copy of everything certdesk holds about them
// (store.PersonalData). A learner gets their own (the address they signed
// in with leads to the rest); a supervisor anyone's, for a request that
// came by another way. Every copy is audited.
func (s *Desk) PersonalData(ctx context.Context, p *certdesk.Principal, email string) (out store.PersonalData, err error) {
	defer func() {
		s.Audit(ctx, p.Actor(), "personal_data_exported", "", p.ClientAddr, map[string]any{"email": out.Email, "error": errText(err)})
	}()
	switch {
	case p.Role == certdesk.RoleLearner:
		email = p.Email
	case p.Role != certdesk.RoleSupervisor:
		return out, certdesk.Errorf(certdesk.EFORBIDDEN, "a learner downloads their own data; a supervisor produces anyone's")
	}
	addr, perr := certdesk.ParseEmail(email)
	if perr != nil {
		return out, certdesk.Invalid(map[string]string{"email": perr.Error()})
	}
	return s.store.PersonalData(ctx, addr)
}
