package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// `certdesk <command> --help` (and -h) prints that command's usage, with
// its flags, to stdout and succeeds (exit status 0), for every command; it
// starts nothing and needs no configuration.
func TestEveryCommandHelps(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_SECRET", "")
	tokenFlags := []string{"-agent", "-name", "-ttl", "-data-dir"}
	commands := []struct {
		args  []string
		flags []string // what the usage must mention
	}{
		{[]string{"dev"}, []string{"certdesk dev", "-data-dir", "-http", "-temporal-port"}},
		{[]string{"api"}, []string{"certdesk api"}},
		{[]string{"worker"}, []string{"certdesk worker"}},
		{[]string{"migrate"}, []string{"certdesk migrate"}},
		{[]string{"seed"}, []string{"certdesk seed"}},
		{[]string{"health"}, []string{"certdesk health", "URL", "-timeout"}},
		{[]string{"token"}, append([]string{"certdesk token", "create", "list", "revoke"}, tokenFlags...)},
		{[]string{"token", "create"}, append([]string{"certdesk token create"}, tokenFlags...)},
		{[]string{"token", "list"}, []string{"certdesk token list", "-agent"}},
		{[]string{"token", "revoke"}, []string{"certdesk token revoke"}},
		{[]string{"token", "create"}, []string{"-integration", "-scopes"}},
		{[]string{"staff"}, []string{"certdesk staff add", "staff list", "staff set-role", "staff disable", "staff enable", "-email", "-role", "-name"}},
		{[]string{"privacy"}, []string{"certdesk privacy export", "-email", "-out", "-data-dir"}},
		{[]string{"staff", "add"}, []string{"certdesk staff add", "-email", "-role", "-name", "-data-dir"}},
		{[]string{"staff", "disable"}, []string{"certdesk staff disable", "-email"}},
		{[]string{"webhooks"}, []string{"certdesk webhooks add", "webhooks list", "webhooks rotate-secret", "webhooks disable", "webhooks enable", "webhooks replay", "-url", "-events", "-since", "-event-type", "-keep-old"}},
		{[]string{"import"}, []string{"certdesk import profiles", "certdesk import accounts", "-dry-run", "-report"}},
		{[]string{"import", "profiles"}, []string{"certdesk import profiles", "-dry-run", "-report"}},
		{[]string{"help"}, []string{"certdesk staff", "certdesk import", "certdesk health"}},
		{[]string{"keys"}, []string{"certdesk keys new", "-id"}},
		{[]string{"keys", "new"}, []string{"certdesk keys new", "-id"}},
		{[]string{"bench"}, []string{"certdesk bench", "-scenario", "-duration", "-concurrency", "-cases", "-rate", "-postgres",
			"-target", "-token", "-target-database", "-out", "-cpuprofile"}},
		{[]string{"chaos"}, []string{"certdesk chaos", "-cases", "-kill-every", "-term-every", "-stop-timeout", "-temporal-restarts",
			"-postgres-restarts", "-restart-every", "-pg-bin", "-db-drops", "-drop-every", "-cooling-off",
			"-arrive-every", "-concurrency", "-seed", "-timeout", "-postgres", "-dir", "-keep", "-out"}},
		{[]string{"version"}, []string{"certdesk version"}},
		{[]string{"help"}, []string{"certdesk dev", "certdesk bench"}},
	}
	for _, tc := range commands {
		for _, help := range []string{"--help", "-h", "-help"} {
			args := append(append([]string{}, tc.args...), help)
			var out bytes.Buffer
			err := run(context.Background(), args, &out)
			if status := exitStatus(err); status != 0 {
				t.Errorf("certdesk %s: exit status %d (%v), want 0", strings.Join(args, " "), status, err)
				continue
			}
			for _, want := range tc.flags {
				if !strings.Contains(out.String(), want) {
					t.Errorf("certdesk %s: usage does not mention %q:\n%s", strings.Join(args, " "), want, out.String())
				}
			}
		}
	}
}

// A mistake on the command line is exit status 2 and says how to get help;
// a failure of the work itself is 1.
func TestUsageMistakesAreExitStatus2(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--no-such-flag"},
		{"dev", "--http"},
		{"token", "create", "--ttl", "sometime"},
		{"token", "frobnicate"},
		{"keys", "old"},
		{"api", "extra", "--nope"},
		{"frobnicate"},
		{},
	} {
		err := run(context.Background(), args, &bytes.Buffer{})
		if status := exitStatus(err); status != 2 {
			t.Errorf("certdesk %s: exit status %d (%v), want 2", strings.Join(args, " "), status, err)
		}
	}
	if status := exitStatus(context.Canceled); status != 1 {
		t.Errorf("a failure = exit status %d, want 1", status)
	}
}
