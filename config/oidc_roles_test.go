package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/config"
)

// The staff roles and personal tenants come from the environment, with
// Entra ID's defaults; one value for both roles is refused.
func TestOIDCRolesFromTheEnvironment(t *testing.T) {
	c, err := config.Load(config.ModeProduction, config.MapEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDC.RolesClaim != "roles" || c.OIDC.StaffRoles() || !slices.Equal(c.OIDC.PersonalTenants, []string{"9188040d-6c67-4c5b-b112-36a304b66dad"}) {
		t.Errorf("defaults = %+v", c.OIDC)
	}
	c, err = config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_OIDC_ROLES_CLAIM": "groups", "CERTDESK_OIDC_AGENT_ROLE": "g-agents",
		"CERTDESK_OIDC_SUPERVISOR_ROLE": "g-sups", "CERTDESK_OIDC_PERSONAL_TENANTS": "t1, t2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDC.RolesClaim != "groups" || c.OIDC.AgentRole != "g-agents" || c.OIDC.SupervisorRole != "g-sups" || !c.OIDC.StaffRoles() ||
		!slices.Equal(c.OIDC.PersonalTenants, []string{"t1", "t2"}) {
		t.Errorf("from the environment = %+v", c.OIDC)
	}
	c, _ = config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_OIDC_ISSUER": "https://login.example/v2.0", "CERTDESK_OIDC_CLIENT_ID": "c",
		"CERTDESK_OIDC_CLIENT_SECRET": "s", "CERTDESK_OIDC_AGENT_ROLE": "staff", "CERTDESK_OIDC_SUPERVISOR_ROLE": "staff"})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "CERTDESK_OIDC_SUPERVISOR_ROLE") {
		t.Errorf("one value for both roles: %v", err)
	}
}

// The production worker refuses to start while a message kind has no
// SendGrid template, naming every missing one, unless the sandbox sends
// nothing or CERTDESK_ALLOW_MISSING_TEMPLATES says so.
func TestWorkerNeedsEveryTemplate(t *testing.T) {
	env := config.MapEnv{"SENDGRID_API_KEY": "SG.x", "SENDGRID_TEMPLATE_CONNECT_COMPLETED": "d-1"}
	c, err := config.Load(config.ModeProduction, env)
	if err != nil {
		t.Fatal(err)
	}
	err = c.ValidateMailer()
	if err == nil || !strings.Contains(err.Error(), "SENDGRID_TEMPLATE_RECOVERY_VERIFY") || strings.Contains(err.Error(), "SENDGRID_TEMPLATE_CONNECT_COMPLETED") {
		t.Errorf("missing templates: %v", err)
	}
	for _, k := range []string{"SENDGRID_SANDBOX", "CERTDESK_ALLOW_MISSING_TEMPLATES"} {
		env := config.MapEnv{"SENDGRID_API_KEY": "SG.x", k: "true"}
		c, _ := config.Load(config.ModeProduction, env)
		if err := c.ValidateMailer(); err != nil {
			t.Errorf("with %s: %v", k, err)
		}
	}
	dev, _ := config.Load(config.ModeDev, config.MapEnv{})
	if err := dev.ValidateMailer(); err != nil {
		t.Errorf("dev mode: %v", err)
	}
}

// Entra ID's multi-tenant endpoints are recognised; with staff roles they
// need the staff's tenant, or any tenant could make its users staff.
func TestMultiTenantIssuerNeedsTheStaffTenant(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://login.microsoftonline.com/common/v2.0":        "https://login.microsoftonline.com/{tenantid}/v2.0",
		"https://login.microsoftonline.com/organizations/v2.0": "https://login.microsoftonline.com/{tenantid}/v2.0",
		"https://login.microsoftonline.com/consumers/v2.0":     "https://login.microsoftonline.com/{tenantid}/v2.0",
		"https://login.microsoftonline.com/contoso-id/v2.0":    "",
		"https://accounts.example.com":                         "",
	} {
		got, ok := config.OIDC{Issuer: issuer}.MultiTenant()
		if got != want || ok != (want != "") {
			t.Errorf("MultiTenant(%s) = %q, %v; want %q", issuer, got, ok, want)
		}
	}
	env := config.MapEnv{"CERTDESK_OIDC_ISSUER": "https://login.microsoftonline.com/common/v2.0", "CERTDESK_OIDC_CLIENT_ID": "c",
		"CERTDESK_OIDC_CLIENT_SECRET": "s", "CERTDESK_OIDC_AGENT_ROLE": "certdesk.agent"}
	c, _ := config.Load(config.ModeProduction, env)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "CERTDESK_OIDC_STAFF_TENANT") {
		t.Errorf("multi-tenant with roles, no staff tenant: %v", err)
	}
	env["CERTDESK_OIDC_STAFF_TENANT"] = "contoso-id"
	c, _ = config.Load(config.ModeProduction, env)
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "OIDC") {
		t.Errorf("multi-tenant with the staff tenant: %v", err)
	}
}
