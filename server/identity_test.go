package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/oidctest"
	"github.com/certdesk/certdesk/store/storetest"
)

// lookAlikes are addresses that Unicode reads as a demo person's: a KELVIN
// SIGN, fullwidth letters, ligatures, Cyrillic and Greek letters,
// compatibility dots, invisible characters, upper-case non-ASCII letters.
var lookAlikes = []string{
	"ben.o\u212Aafor@contoso.example",
	"ben.okafor@contoso.e\u212Aample",
	"ｂen.okafor@contoso.example",
	"ben.oka\ufb00or@contoso.example",
	"b\u0435n.okafor@contoso.example",
	"ben.okafor@c\u043entoso.example",
	"\u0430na.silva@outlook.example",
	"ana.silv\u03b1@outlook.example",
	"ana\u2024silva@outlook.example",
	"ana\u200b.silva@outlook.example",
	"alice.agent@certdesk\uff0eexample",
	"\u0391lice.agent@certdesk.example",
	"\u212Bna.silva@outlook.example",
}

// A sign-in whose verified email is a look-alike of someone's address is
// refused: it neither signs in nor binds its subject to the account.
func TestOIDCLookAlikeEmailIsRefused(t *testing.T) {
	ctx := context.Background()
	// A few sign-ins per server: each client address has a sign-in limit.
	for start := 0; start < len(lookAlikes); start += 8 {
		iss, base, st := oidcServer(t)
		for i, email := range lookAlikes[start:min(start+8, len(lookAlikes))] {
			sub := "attacker-" + string(rune('a'+start+i))
			resp, browser := iss.SignIn(t, base, map[string]any{"sub": sub, "email": email, "email_verified": true})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%q: callback = %d, want 403", email, resp.StatusCode)
			}
			if me := getMe(t, browser, base); me["role"] != nil {
				t.Errorf("%q: signed in as %v", email, me)
			}
		}
		for _, email := range []string{"ben.okafor@contoso.example", "ana.silva@outlook.example"} {
			a, err := st.AccountByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			if a.OIDCSubject != nil {
				t.Errorf("%s was bound to subject %q by a look-alike sign-in", email, *a.OIDCSubject)
			}
		}
		if a, err := st.AgentByEmail(ctx, "alice.agent@certdesk.example"); err != nil || a.OIDCSubject != nil {
			t.Errorf("Alice bound by a look-alike: %v %v", a.OIDCSubject, err)
		}
	}
	// The plain address, in any ASCII case, still signs Ben in.
	iss, base, _ := oidcServer(t)
	_, browser := iss.SignIn(t, base, map[string]any{"sub": "entra-ben", "email": "Ben.OKAFOR@contoso.example", "email_verified": true, "tid": "contoso"})
	if me := getMe(t, browser, base); me["email"] != "ben.okafor@contoso.example" {
		t.Fatalf("Ben's own sign-in = %v", me)
	}
}

// An account can join a learning profile only by the sign-in it is bound
// to, never away from another learning profile, never while inactive, never
// under a look-alike address; a refusal changes nothing.
func TestAddAccountRespectsSubjectsAndProfiles(t *testing.T) {
	iss, base, st := oidcServer(t)
	ctx := context.Background()
	msa := "9188040d-6c67-4c5b-b112-36a304b66dad"

	// Ben's personal account signs in once on its own: it is bound to its
	// subject from then on.
	iss.SignIn(t, base, map[string]any{"sub": "sub-benhot", "email": "ben.okafor@hotmail.example", "email_verified": true, "tid": msa})
	benHot, err := st.AccountByEmail(ctx, "ben.okafor@hotmail.example")
	if err != nil || benHot.OIDCSubject == nil || benHot.LearningProfileID == nil {
		t.Fatalf("ben's personal account after its sign-in: %+v %v", benHot, err)
	}

	_, ana := iss.SignIn(t, base, map[string]any{"sub": "entra-ana", "email": "ana.silva@outlook.example", "email_verified": true, "tid": msa})
	before := getMe(t, ana, base)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"bound to another subject", map[string]any{"sub": "sub-mallory", "email": "ben.okafor@hotmail.example", "email_verified": true, "tid": msa}, http.StatusConflict},
		{"bound, email in upper case", map[string]any{"sub": "sub-mallory2", "email": "BEN.OKAFOR@HOTMAIL.EXAMPLE", "email_verified": true, "tid": msa}, http.StatusConflict},
		{"on another learning profile", map[string]any{"sub": "sub-chen-x", "email": "chen.wei@outlook.example", "email_verified": true, "tid": msa}, http.StatusConflict},
		{"inactive", map[string]any{"sub": "sub-dara-x", "email": "dara.murphy@outlook.example", "email_verified": true, "tid": msa}, http.StatusConflict},
		{"look-alike of a bound account", map[string]any{"sub": "sub-mallory3", "email": "ben.o\u212Aafor@hotmail.example", "email_verified": true, "tid": msa}, http.StatusForbidden},
		{"unverified", map[string]any{"sub": "sub-mallory4", "email": "c.wei@gmail.example", "email_verified": false, "tid": msa}, http.StatusForbidden},
	} {
		iss.Next(tc.claims)
		resp, err := ana.Get(base + "/auth/login?add_account=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: add-account = %d, want %d\n%s", tc.name, resp.StatusCode, tc.want, body)
		}
		after := getMe(t, ana, base)
		if len(after["accounts"].([]any)) != len(before["accounts"].([]any)) ||
			len(after["certification_profiles"].([]any)) != len(before["certification_profiles"].([]any)) {
			t.Errorf("%s: Ana's learning profile changed: %v", tc.name, after)
		}
	}
	// Its own sign-in made it a learning profile; none of the attempts
	// moved it.
	if a, _ := st.AccountByEmail(ctx, "ben.okafor@hotmail.example"); a.LearningProfileID == nil || *a.LearningProfileID != *benHot.LearningProfileID {
		t.Errorf("Ben's account moved to learning profile %v", a.LearningProfileID)
	}

	// Ben's own subject adds it to his learning profile.
	_, ben := iss.SignIn(t, base, map[string]any{"sub": "entra-ben", "email": "ben.okafor@contoso.example", "email_verified": true, "tid": "contoso"})
	iss.Next(map[string]any{"sub": "sub-benhot", "email": "ben.okafor@hotmail.example", "email_verified": true, "tid": msa})
	resp, err := ben.Get(base + "/auth/login?add_account=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Ben adding his own account = %d", resp.StatusCode)
	}
	if me := getMe(t, ben, base); len(me["accounts"].([]any)) != 2 {
		t.Fatalf("Ben's accounts = %v", me["accounts"])
	}
}

// An inactive account cannot use certdesk: its sign-in (OIDC or dev) lands
// on a page that explains recovery and links the form, its sessions stop at
// once, and its bearer tokens are refused.
func TestInactiveAccountCannotUseCertdesk(t *testing.T) {
	iss, base, st := oidcServer(t)
	ctx := context.Background()

	resp, browser := iss.SignIn(t, base, map[string]any{"sub": "sub-dara", "email": "dara.murphy@outlook.example", "email_verified": true})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Dara's sign-in = %d, want 403", resp.StatusCode)
	}
	if me := getMe(t, browser, base); me["role"] != nil {
		t.Fatalf("an inactive account is signed in: %v", me)
	}
	page := signInPage(t, iss, base, map[string]any{"sub": "sub-dara", "email": "dara.murphy@outlook.example", "email_verified": true})
	for _, want := range []string{"inactive", `href="/portal/recovery"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the refusal page lacks %q:\n%s", want, page)
		}
	}

	// Dev mode's demo sign-in follows the same policy.
	h := newHarness(t, "sqlite", nil)
	if r := h.do("POST", "/dev/login", "", map[string]string{"email": "dara.murphy@outlook.example"}); r.Code != http.StatusForbidden {
		t.Errorf("dev sign-in of an inactive account = %d, want 403", r.Code)
	}

	// Ana signs in, then her account becomes inactive: the session stops.
	_, ana := iss.SignIn(t, base, map[string]any{"sub": "entra-ana", "email": "ana.silva@outlook.example", "email_verified": true})
	if me := getMe(t, ana, base); me["role"] != "learner" {
		t.Fatalf("Ana = %v", me)
	}
	a, _ := st.AccountByEmail(ctx, "ana.silva@outlook.example")
	if err := storetest.SetAccountStatus(ctx, st, a.ID, certdesk.AccountInactive); err != nil {
		t.Fatal(err)
	}
	if me := getMe(t, ana, base); me["role"] != nil {
		t.Fatalf("an inactive account's session still works: %v", me)
	}
	token := h.login("ana.silva@outlook.example") // the dev harness has its own store
	a2, _ := h.store.AccountByEmail(ctx, "ana.silva@outlook.example")
	if err := storetest.SetAccountStatus(ctx, h.store, a2.ID, certdesk.AccountInactive); err != nil {
		t.Fatal(err)
	}
	if r := h.do("GET", "/api/v1/me", token, nil); r.Code != http.StatusForbidden || r.errorCode(t) != "forbidden" {
		t.Errorf("an inactive account's bearer token = %d %s, want 403", r.Code, r.Body)
	}
	if r := h.do("POST", "/api/v1/connect-requests", token, nil); r.Code != http.StatusForbidden {
		t.Errorf("an inactive account opens a case: %d", r.Code)
	}
}

// signInPage runs a sign-in and returns the page the callback answers.
func signInPage(t *testing.T, iss *oidctest.Issuer, base string, claims map[string]any) string {
	t.Helper()
	resp, browser := iss.SignIn(t, base, claims)
	_ = resp
	r, err := browser.Get(base + "/auth/login?next=/portal")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}
