package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// `certdesk token create` refuses a --ttl longer than CERTDESK_TOKEN_MAX_TTL
// (a year by default) with exit status 2 and says why; nothing is created.
func TestTokenCreateRefusesALongerTTL(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(t.TempDir(), "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_TOKEN_MAX_TTL", "")
	ctx := context.Background()
	for _, cmd := range [][]string{{"migrate"}, {"seed"}} {
		if err := run(ctx, cmd, &bytes.Buffer{}); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	create := func(ttl string) (int, string, error) {
		var out bytes.Buffer
		err := run(ctx, []string{"token", "create", "--agent", "alice.agent@certdesk.example", "--ttl", ttl}, &out)
		return exitStatus(err), out.String(), err
	}
	tests := []struct {
		maxTTL, ttl string
		status      int
	}{
		{"", "90d", 0},
		{"", "365d", 0},
		{"", "8760h", 0},
		{"", "366d", 2},
		{"", "8761h", 2},
		{"", "3650d", 2},
		{"", "876000h", 2},
		{"720h", "30d", 0},
		{"720h", "31d", 2},
		{"720h", "721h", 2},
		{"1h", "59m", 0},
		{"1h", "2h", 2},
	}
	created := 0
	for _, tc := range tests {
		t.Setenv("CERTDESK_TOKEN_MAX_TTL", tc.maxTTL)
		status, out, err := create(tc.ttl)
		if status != tc.status {
			t.Errorf("max %q, --ttl %s: exit status %d (%v), want %d", tc.maxTTL, tc.ttl, status, err, tc.status)
			continue
		}
		if status == 0 {
			created++
			if !strings.HasPrefix(out, "cdp_") {
				t.Errorf("--ttl %s printed %q", tc.ttl, out)
			}
		} else if !strings.Contains(err.Error(), "CERTDESK_TOKEN_MAX_TTL") || strings.Contains(out, "cdp_") {
			t.Errorf("max %q, --ttl %s: %v / %q: want the limit named and no token", tc.maxTTL, tc.ttl, err, out)
		}
	}
	t.Setenv("CERTDESK_TOKEN_MAX_TTL", "")
	var list bytes.Buffer
	if err := run(ctx, []string{"token", "list"}, &list); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(list.String(), "\n") - 1; rows != created {
		t.Errorf("%d tokens listed, want the %d created:\n%s", rows, created, list.String())
	}
}
