package auth

import (
	"github.com/certdesk/certdesk"
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
