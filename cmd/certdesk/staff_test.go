package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// `certdesk staff` adds, lists, changes, disables and enables members; a
// mistake on the command line is exit status 2 and changes nothing.
func TestStaffCommands(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(t.TempDir(), "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	ctx := context.Background()
	staff := func(args ...string) (string, int) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"staff"}, args...), &out)
		if err != nil {
			out.WriteString(err.Error())
		}
		return out.String(), exitStatus(err)
	}
	if err := run(ctx, []string{"migrate"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args   []string
		status int
		says   string
	}{
		{[]string{"add", "--email", "Olga.Berg@Desk.example", "--role", "supervisor", "--name", "Olga Berg"}, 0, "olga.berg@desk.example (Olga Berg): supervisor, active"},
		{[]string{"add", "--email", "olga.berg@desk.example", "--role", "agent"}, 1, "already"},
		{[]string{"add", "--email", "piet@desk.example", "--role", "agent"}, 0, "piet@desk.example (piet): agent, active"},
		{[]string{"set-role", "--email", "piet@desk.example", "--role", "supervisor"}, 0, "supervisor"},
		{[]string{"disable", "--email", "piet@desk.example"}, 0, "disabled"},
		{[]string{"list"}, 0, "piet@desk.example"},
		{[]string{"enable", "--email", "piet@desk.example"}, 0, "active"},
		{[]string{"disable", "--email", "nobody@desk.example"}, 1, "nobody on the staff"},
		// Usage mistakes: exit status 2, nothing changed.
		{[]string{"add", "--email", "q@desk.example", "--role", "admin"}, 2, "agent or supervisor"},
		{[]string{"add", "--role", "agent"}, 2, "--email is required"},
		{[]string{"add", "--email", "not-an-address", "--role", "agent"}, 2, "--email"},
		{[]string{"add", "--email", "ben.o\u212Aafor@desk.example", "--role", "agent"}, 2, "--email"},
		{[]string{"set-role", "--email", "piet@desk.example"}, 2, "--role"},
		{[]string{"promote"}, 2, "unknown subcommand"},
		{[]string{}, 2, "add, list"},
		{[]string{"list", "extra"}, 2, "no arguments"},
	}
	for _, s := range steps {
		out, status := staff(s.args...)
		if status != s.status || !strings.Contains(out, s.says) {
			t.Errorf("staff %v = %d %q, want %d saying %q", s.args, status, out, s.status, s.says)
		}
	}
	out, _ := staff("list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "LAST SIGN-IN") || !strings.Contains(out, "never") || strings.Contains(out, "q@desk.example") {
		t.Errorf("staff list =\n%s\nwant a header and Olga and Piet, never signed in", out)
	}
	if out, status := staff("--help"); status != 0 || !strings.Contains(out, "staff disable --email EMAIL") {
		t.Errorf("staff --help = %d %q", status, out)
	}
}
