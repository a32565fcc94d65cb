package auth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// The sign-in policy, in one place: who may use certdesk once the identity
// provider (or dev mode's demo sign-in) says who they are. An inactive
// account — unused for two years — cannot use certdesk until a completed
// recovery makes it active again: its sign-in is refused with a page that
// explains recovery, and its sessions stop working at once.

// inactiveAccount is why an inactive account's sign-in or session is
// refused; the error page links the recovery form.
type inactiveAccount struct{ email string }

func (e inactiveAccount) Error() string { return "account " + e.email + " is inactive" }

// Link is where the error page sends the person.
func (inactiveAccount) Link() (href, text string) {
	return "/portal/recovery", "Recover my certification profile"
}

// errInactive is the refusal of an inactive account.
func errInactive(email string) error {
	return &certdesk.Error{Code: certdesk.EFORBIDDEN, Err: inactiveAccount{email: email},
		Message: "The account " + email + " is inactive: it was not used for two years. Your certifications are safe. " +
			"To use your certification profile again, ask us to recover it; once the recovery is complete, " +
			"sign in with the account you named in the request."}
}

// signInRefusal says why an account may not sign in (nil: it may).
func signInRefusal(a certdesk.Account) error {
	if a.Status == certdesk.AccountInactive {
		return errInactive(a.Email)
	}
	return nil
}

// idClaims are the ID token's claims certdesk reads (the roles claim is
// read by name, see staffRole).
type idClaims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	TenantID      string `json:"tid"`
}

// signInIdentity is who a verified sign-in says the person is.
type signInIdentity struct {
	Subject string // issuer|subject
	Email   string // canonical, "" unless the provider confirmed it
	Name    string
	Kind    string        // the account's kind, from the token's tenant
	Role    certdesk.Role // a staff role the token gives, or ""
}

// staffRole reads the staff role a token gives (supervisor before agent)
// from the configured claim: a list of strings, as Entra ID sends app
// roles and groups, or one string of space-separated values. With
// CERTDESK_OIDC_STAFF_TENANT set, only that tenant's tokens give roles: in
// a multi-tenant app, any other tenant can assign its users the app's
// roles.
func (s *Auth) staffRole(claims map[string]any) certdesk.Role {
	o := s.cfg.OIDC
	if tid, _ := claims["tid"].(string); o.StaffTenant != "" && tid != o.StaffTenant {
		return "" // app roles count only in the staff's own tenant
	}
	var values []string
	switch v := claims[o.RolesClaim].(type) {
	case string:
		values = strings.Fields(v)
	case []any:
		for _, x := range v {
			if str, ok := x.(string); ok {
				values = append(values, str)
			}
		}
	}
	has := func(want string) bool { return want != "" && slices.Contains(values, want) }
	switch {
	case has(o.SupervisorRole):
		return certdesk.RoleSupervisor
	case has(o.AgentRole):
		return certdesk.RoleAgent
	}
	return ""
}

// accountKind is the seed's rule for a signed-in account: personal when
// the token's tenant is a personal one (Entra ID's consumer tenant) or it
// names none, work or school otherwise.
func (s *Auth) accountKind(tenant string) string {
	if tenant == "" || slices.Contains(s.cfg.OIDC.PersonalTenants, tenant) {
		return certdesk.AccountPersonal
	}
	return certdesk.AccountWork
}

// matchPerson decides who a signed-in identity is and returns the session
// subject:
//   - when the provider's roles decide (CERTDESK_OIDC_AGENT_ROLE or
//     _SUPERVISOR_ROLE), a token with a staff role makes or updates the
//     staff member; a member the provider made, signing in without the
//     role, is disabled (claims back to the queue) and refused;
//   - a member added by hand (certdesk staff) signs in as staff unless
//     disabled;
//   - anyone else is a learner: their account, or a new account and
//     learning profile at the first sign-in (an inactive account is
//     refused, see signInRefusal).
func (s *Auth) matchPerson(ctx context.Context, id signInIdentity) (string, error) {
	if s.cfg.OIDC.StaffRoles() {
		if id.Role != "" {
			if id.Email == "" {
				return "", certdesk.Errorf(certdesk.EFORBIDDEN, "The sign-in provider gives you a staff role but no confirmed email address; certdesk needs one for staff. Ask your administrator.")
			}
			a, err := s.store.StaffSignIn(ctx, store.StaffIdentity{Subject: id.Subject, Email: id.Email, Name: id.Name, Role: id.Role})
			if certdesk.ErrorCode(err) == certdesk.ECONFLICT {
				return "", certdesk.Errorf(certdesk.EFORBIDDEN, "The address %s is another staff member's sign-in. Ask your administrator.", id.Email)
			}
			if err != nil {
				return "", err
			}
			return "agent:" + a.ID, nil
		}
		a, err := s.store.StaffRoleRemoved(ctx, id.Subject, id.Email)
		switch {
		case err == nil && a.Source == certdesk.StaffFromProvider:
			slog.InfoContext(ctx, "staff role removed at sign-in", "agent", a.ID)
			return "", errRoleRemoved
		case err != nil && !errors.Is(err, certdesk.ErrNotFound):
			return "", err
		}
	}
	if a, err := s.store.SignInAgent(ctx, id.Subject, id.Email); err == nil {
		if !a.Active() {
			return "", errRoleRemoved
		}
		return "agent:" + a.ID, nil
	} else if !errors.Is(err, certdesk.ErrNotFound) {
		return "", err
	}
	a, created, err := s.store.SignInLearner(ctx, store.LearnerIdentity{Subject: id.Subject, Email: id.Email, Name: id.Name, Kind: id.Kind})
	switch {
	case errors.Is(err, certdesk.ErrNotFound):
		return "", certdesk.Errorf(certdesk.EFORBIDDEN, "The sign-in provider did not confirm your email address, so certdesk cannot make your learning profile. Sign in with an account whose address is confirmed, or contact support.")
	case certdesk.ErrorCode(err) == certdesk.ECONFLICT:
		return "", certdesk.Errorf(certdesk.EFORBIDDEN, "The address %s belongs to an account that signs in another way. If you lost access to it, use the recovery form at /portal/recovery.", id.Email)
	case err != nil:
		return "", err
	}
	if err := signInRefusal(a); err != nil {
		return "", err
	}
	if created {
		slog.InfoContext(ctx, "learner's first sign-in: account and learning profile created", "account", a.ID, "kind", a.Kind)
	}
	return "account:" + a.ID, nil
}

// errRoleRemoved refuses a staff member who may no longer use certdesk.
var errRoleRemoved = certdesk.Errorf(certdesk.EFORBIDDEN, "Your certdesk staff access was removed or disabled. If you think this is a mistake, ask a supervisor or your administrator.")
