package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
)

// entraRoles makes the server read Entra ID app roles as the README says.
func entraRoles(cfg *config.Config) {
	cfg.OIDC.RolesClaim = "roles"
	cfg.OIDC.AgentRole, cfg.OIDC.SupervisorRole = "certdesk.agent", "certdesk.supervisor"
}

// Staff are who the identity provider's app roles say, at each sign-in: a
// new member is made, a role change applies, a removed role ends every
// session and token at once and the next sign-in is refused; members
// added by hand keep their access whatever the token says.
func TestOIDCStaffFromAppRoles(t *testing.T) {
	iss, base, st := oidcServer(t, entraRoles)
	ctx := context.Background()
	nora := func(roles any) map[string]any {
		c := map[string]any{"sub": "entra-nora", "email": "nora.field@contoso.example", "email_verified": true, "name": "Nora Field", "tid": "contoso"}
		if roles != nil {
			c["roles"] = roles
		}
		return c
	}

	for _, tc := range []struct {
		name  string
		roles any
		want  string
	}{
		{"agent app role", []any{"certdesk.agent"}, "agent"},
		{"supervisor wins over agent", []any{"certdesk.agent", "certdesk.supervisor", "other.app"}, "supervisor"},
		{"roles as one string", "other.app certdesk.agent", "agent"},
	} {
		resp, browser := iss.SignIn(t, base, nora(tc.roles))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: callback = %d", tc.name, resp.StatusCode)
		}
		if me := getMe(t, browser, base); me["role"] != tc.want || me["email"] != "nora.field@contoso.example" {
			t.Errorf("%s: me = %v, want role %s", tc.name, me, tc.want)
		}
	}
	a, err := st.AgentByEmail(ctx, "nora.field@contoso.example")
	if err != nil || a.Source != certdesk.StaffFromProvider || a.Name != "Nora Field" || a.LastSignInAt == nil {
		t.Fatalf("Nora on the staff = %+v, %v", a, err)
	}
	_, browser := iss.SignIn(t, base, nora([]any{"certdesk.agent"}))
	raw, hash := certdesk.NewToken()
	if err := st.CreateAccessToken(ctx, &store.AccessToken{AgentID: a.ID, Name: "cli", Hash: hash, ExpiresAt: time.Now().Add(time.Hour)}, config.DefaultTokenMaxTTL); err != nil {
		t.Fatal(err)
	}
	if code := bearerStatus(t, base, "cdp_"+raw); code != http.StatusOK {
		t.Fatalf("her token before = %d", code)
	}

	// The role removed in the provider: the next sign-in is refused, and
	// her other browser and her token stop at once.
	for _, roles := range []any{nil, []any{}, []any{"other.app"}, 42} {
		resp, other := iss.SignIn(t, base, nora(roles))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with roles %v = %d, want 403", roles, resp.StatusCode)
		}
		if me := getMe(t, other, base); me["role"] != nil {
			t.Errorf("roles %v: signed in as %v", roles, me)
		}
	}
	if me := getMe(t, browser, base); me["role"] != nil {
		t.Errorf("her earlier session after the role was removed: %v", me)
	}
	if code := bearerStatus(t, base, "cdp_"+raw); code != http.StatusUnauthorized {
		t.Errorf("her token after the role was removed = %d, want 401", code)
	}
	// Given again, she is back (a new session; the old ones stay ended).
	_, back := iss.SignIn(t, base, nora([]any{"certdesk.agent"}))
	if me := getMe(t, back, base); me["role"] != "agent" {
		t.Errorf("the role given again: me = %v", me)
	}
}

// Members added by hand keep their access whatever the token says, until a
// person disables them; a staff role without a confirmed email makes
// nobody staff. (Each test has its own server: sign-ins are rate limited
// per client.)
func TestOIDCStaffAddedByHand(t *testing.T) {
	iss, base, st := oidcServer(t, entraRoles)
	ctx := context.Background()
	// Alice was added by hand (the demo world): no app role, still staff.
	_, alice := iss.SignIn(t, base, map[string]any{"sub": "entra-alice", "email": "alice.agent@certdesk.example", "email_verified": true})
	if me := getMe(t, alice, base); me["role"] != "agent" {
		t.Errorf("a member added by hand without app roles: me = %v", me)
	}
	// Disabled by hand: the provider's role does not bring her back.
	if _, err := st.DisableStaff(ctx, "alice.agent@certdesk.example"); err != nil {
		t.Fatal(err)
	}
	if me := getMe(t, alice, base); me["role"] != nil {
		t.Errorf("Alice's session after staff disable: %v", me)
	}
	resp, _ := iss.SignIn(t, base, map[string]any{"sub": "entra-alice", "email": "alice.agent@certdesk.example", "email_verified": true, "roles": []any{"certdesk.supervisor"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a disabled member's sign-in with a role = %d, want 403", resp.StatusCode)
	}
	// A staff role without a confirmed address makes nobody staff.
	resp, _ = iss.SignIn(t, base, map[string]any{"sub": "entra-x", "email": "x@contoso.example", "roles": []any{"certdesk.agent"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a staff role without a confirmed email = %d, want 403", resp.StatusCode)
	}
}

// Without configured role values, roles in the token make nobody staff.
func TestOIDCRolesIgnoredUnlessConfigured(t *testing.T) {
	iss, base, _ := oidcServer(t)
	_, browser := iss.SignIn(t, base, map[string]any{"sub": "entra-q", "email": "quinn@outlook.example", "email_verified": true,
		"roles": []any{"certdesk.agent", "certdesk.supervisor"}})
	if me := getMe(t, browser, base); me["role"] != "learner" {
		t.Errorf("me = %v, want a learner", me)
	}
}

// A learner's first sign-in makes their account and learning profile; the
// tenant says whether the account is personal or work.
func TestOIDCFirstSignInMakesALearner(t *testing.T) {
	iss, base, st := oidcServer(t, entraRoles)
	ctx := context.Background()
	for _, tc := range []struct {
		name, sub, email, tid, kind string
	}{
		{"personal Microsoft account", "msa-1", "lena.fox@outlook.example", "9188040d-6c67-4c5b-b112-36a304b66dad", certdesk.AccountPersonal},
		{"work tenant", "work-1", "lena.fox@fabrikam.example", "fabrikam-tenant", certdesk.AccountWork},
		{"no tenant", "plain-1", "lena@mail.example", "", certdesk.AccountPersonal},
	} {
		claims := map[string]any{"sub": tc.sub, "email": tc.email, "email_verified": true, "name": "Lena Fox"}
		if tc.tid != "" {
			claims["tid"] = tc.tid
		}
		resp, browser := iss.SignIn(t, base, claims)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: callback = %d", tc.name, resp.StatusCode)
		}
		me := getMe(t, browser, base)
		if me["role"] != "learner" || me["learning_profile"] == nil {
			t.Fatalf("%s: me = %v", tc.name, me)
		}
		acct, err := st.AccountByEmail(ctx, tc.email)
		if err != nil || acct.Kind != tc.kind || acct.LearningProfileID == nil {
			t.Errorf("%s: account = %+v, %v; want kind %s with a learning profile", tc.name, acct, err, tc.kind)
		}
		// The second sign-in is the same learner.
		_, again := iss.SignIn(t, base, map[string]any{"sub": tc.sub})
		if me2 := getMe(t, again, base); me2["learning_profile"] == nil ||
			me2["learning_profile"].(map[string]any)["id"] != me["learning_profile"].(map[string]any)["id"] {
			t.Errorf("%s: second sign-in = %v", tc.name, me2)
		}
	}
	// Ana's address, from another subject that never signed in to it: Ana
	// signs in first (binding her subject), then the stranger is refused.
	_, _ = iss.SignIn(t, base, map[string]any{"sub": "entra-ana", "email": "ana.silva@outlook.example", "email_verified": true})
	resp, stranger := iss.SignIn(t, base, map[string]any{"sub": "entra-stranger", "email": "ana.silva@outlook.example", "email_verified": true})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another subject with Ana's address = %d, want 403", resp.StatusCode)
	}
	if me := getMe(t, stranger, base); me["role"] != nil {
		t.Errorf("the stranger signed in as %v", me)
	}
}

func bearerStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
