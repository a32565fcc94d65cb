package server_test

import (
	"testing"

	"github.com/certdesk/certdesk/config"
)

// With CERTDESK_OIDC_STAFF_TENANT set, only that tenant's tokens give staff
// roles: another tenant assigning itself the app's roles makes nobody
// staff (its users sign in as learners).
func TestStaffRolesOnlyFromTheStaffTenant(t *testing.T) {
	iss, base, _ := oidcServer(t, entraRoles, func(cfg *config.Config) { cfg.OIDC.StaffTenant = "staff-tenant" })
	for _, tc := range []struct {
		name, tid, want string
	}{
		{"the staff tenant", "staff-tenant", "supervisor"},
		{"another tenant", "attacker-tenant", "learner"},
		{"no tenant", "", "learner"},
	} {
		claims := map[string]any{"sub": "sub-" + tc.name, "email": "x" + tc.tid + "@contoso.example", "email_verified": true,
			"roles": []any{"certdesk.supervisor"}}
		if tc.tid != "" {
			claims["tid"] = tc.tid
		}
		_, browser := iss.SignIn(t, base, claims)
		if me := getMe(t, browser, base); me["role"] != tc.want {
			t.Errorf("%s: me = %v, want %s", tc.name, me, tc.want)
		}
	}
}
