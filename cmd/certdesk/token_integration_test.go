package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// `certdesk token create --integration NAME --scopes …` prints an
// integration token once (cdi_…) and keeps its hash and scopes; mistakes
// on the command line are exit status 2 and create nothing; `token list`
// shows both kinds, `token revoke` revokes either.
func TestTokenCreateIntegration(t *testing.T) {
	db := filepath.Join(t.TempDir(), "certdesk.db")
	t.Setenv("CERTDESK_DATABASE_URL", db)
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_TOKEN_MAX_TTL", "")
	ctx := context.Background()
	tokenCmd := func(args ...string) (int, string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"token"}, args...), &out)
		return exitStatus(err), out.String(), err
	}
	for _, cmd := range [][]string{{"migrate"}, {"seed"}} {
		if err := run(ctx, cmd, &bytes.Buffer{}); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}

	status, out, err := tokenCmd("create", "--integration", "learning-site", "--scopes", "sign-ins:write, accounts:write")
	if status != 0 {
		t.Fatalf("create = %d %v", status, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	raw, ok := strings.CutPrefix(lines[0], "cdi_")
	if len(lines) != 2 || !ok || !strings.Contains(lines[1], "sign-ins:write,accounts:write") || !strings.Contains(lines[1], "shown once") {
		t.Fatalf("create printed %q", out)
	}
	id := strings.Fields(lines[1])[2]

	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, _ := certdesk.HashToken(raw)
	tok, err := st.LiveIntegrationToken(ctx, hash)
	if err != nil || tok.ID != id || tok.Name != "learning-site" || !slices.Equal(tok.Scopes, []certdesk.Scope{certdesk.ScopeSignInsWrite, certdesk.ScopeAccountsWrite}) {
		t.Fatalf("stored token = %+v, %v", tok, err)
	}
	if _, err := st.LiveAccessToken(ctx, hash); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
		t.Errorf("the integration token is an agent's too: %v", err)
	}

	mistakes := []struct {
		name string
		args []string
		says []string
	}{
		{"an unknown scope", []string{"--integration", "x", "--scopes", "profiles:write,cases:write"}, []string{`"cases:write"`, "profiles:write", "accounts:write", "sign-ins:write"}},
		{"no scopes", []string{"--integration", "x"}, []string{"--scopes", "profiles:write"}},
		{"empty scopes", []string{"--integration", "x", "--scopes", " , "}, []string{"at least one scope"}},
		{"both kinds", []string{"--integration", "x", "--agent", "alice.agent@certdesk.example", "--scopes", "profiles:write"}, []string{"not both"}},
		{"scopes for an agent", []string{"--agent", "alice.agent@certdesk.example", "--scopes", "profiles:write"}, []string{"--scopes is for --integration"}},
		{"a name for an integration", []string{"--integration", "x", "--name", "y", "--scopes", "profiles:write"}, []string{"--name is for --agent"}},
		{"neither", []string{"--ttl", "30d"}, []string{"--agent", "--integration"}},
		{"a control character in the name", []string{"--integration", "x\x1by", "--scopes", "profiles:write"}, []string{"control character"}},
		{"a long name", []string{"--integration", strings.Repeat("x", store.MaxIntegrationName+1), "--scopes", "profiles:write"}, []string{"longer than"}},
		{"too long a life", []string{"--integration", "x", "--scopes", "profiles:write", "--ttl", "400d"}, []string{"CERTDESK_TOKEN_MAX_TTL"}},
	}
	for _, tc := range mistakes {
		status, out, err := tokenCmd(append([]string{"create"}, tc.args...)...)
		if status != 2 || out != "" {
			t.Errorf("%s: exit status %d (%v), printed %q; want 2 and nothing", tc.name, status, err, out)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %s", tc.name, err, s)
			}
		}
	}

	if status, _, err := tokenCmd("create", "--agent", "alice.agent@certdesk.example"); status != 0 {
		t.Fatalf("agent token: %v", err)
	}
	_, list, err := tokenCmd("list")
	if err != nil || strings.Count(list, "\n") != 3 || !strings.Contains(list, "integration") || !strings.Contains(list, "learning-site") {
		t.Fatalf("list = %v\n%s", err, list)
	}
	if _, only, _ := tokenCmd("list", "--integration", "learning-site"); strings.Count(only, "\n") != 2 || !strings.Contains(only, id) {
		t.Errorf("list --integration:\n%s", only)
	}
	if _, agents, _ := tokenCmd("list", "--agent", "alice.agent@certdesk.example"); strings.Count(agents, "\n") != 2 || strings.Contains(agents, id) {
		t.Errorf("list --agent:\n%s", agents)
	}

	if status, out, err := tokenCmd("revoke", id); status != 0 || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke = %d %q %v", status, out, err)
	}
	if _, err := st.LiveIntegrationToken(ctx, hash); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
		t.Errorf("revoked token still live: %v", err)
	}
	if status, _, err := tokenCmd("revoke", id); status != 1 || !strings.Contains(err.Error(), "no live token") {
		t.Errorf("revoked twice = %d %v, want 1 and no live token", status, err)
	}
	if status, help, _ := tokenCmd("create", "--help"); status != 0 || !strings.Contains(help, "--integration") || !strings.Contains(help, "sign-ins:write") {
		t.Errorf("create --help = %d\n%s", status, help)
	}
}
