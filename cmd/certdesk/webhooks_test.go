package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `certdesk webhooks` adds, lists, rotates, disables, enables and replays
// subscribers; a URL certdesk must not post to, an unknown event type or a
// bad time is exit status 2 and changes nothing.
func TestWebhooksCommands(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(t.TempDir(), "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	ctx := context.Background()
	hooks := func(args ...string) (string, int) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"webhooks"}, args...), &out)
		if err != nil {
			out.WriteString(err.Error())
		}
		return out.String(), exitStatus(err)
	}
	if err := run(ctx, []string{"migrate"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	out, status := hooks("add", "--url", "https://lms.example.com/hooks/certdesk", "--events", "certification_profile.*, case.ended")
	id := regexp.MustCompile(`whsub_[0-9a-z]+`).FindString(out)
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(out)
	if status != 0 || id == "" || secret == "" || !strings.Contains(out, "certification_profile.*,case.ended") {
		t.Fatalf("add = %d %q: want the id, the secret and the patterns", status, out)
	}
	for _, s := range []struct {
		args   []string
		status int
		says   string
	}{
		{[]string{"add", "--url", "http://lms.example.com/hooks", "--events", "*"}, 2, "https"},
		{[]string{"add", "--url", "https://127.0.0.1/hooks", "--events", "*"}, 2, "this machine"},
		{[]string{"add", "--url", "https://localhost./hooks", "--events", "*"}, 2, "this machine"},
		{[]string{"add", "--url", "https://169.254.169.254/latest", "--events", "*"}, 2, "link-local"},
		{[]string{"add", "--url", "https://u:p@lms.example.com/", "--events", "*"}, 2, "credentials"},
		{[]string{"add", "--url", "lms.example.com", "--events", "*"}, 2, "absolute URL"},
		{[]string{"add", "--url", "https://lms.example.com/", "--events", "profile.*"}, 2, "matches no event type"},
		{[]string{"add", "--url", "https://lms.example.com/"}, 2, "name the events"},
		{[]string{"rotate-secret"}, 2, "name the subscriber"},
		{[]string{"replay", id}, 2, "--since"},
		{[]string{"replay", id, "--since", "yesterday"}, 2, "--since"},
		{[]string{"replay", id, "--since", "2026-01-01T00:00:00Z", "--event-type", "case.*"}, 2, "not an event type"},
		{[]string{"replay", "whsub_nope", "--since", "2026-01-01T00:00:00Z"}, 1, "no webhook subscriber"},
		{[]string{"disable", "whsub_nope"}, 1, "no webhook subscriber"},
		{[]string{"list", "extra"}, 2, "no arguments"},
		{[]string{"purge"}, 2, "unknown subcommand"},
		{[]string{"disable", id}, 0, "disabled"},
		{[]string{"enable", id}, 0, "active"},
		{[]string{"replay", id, "--since", "2026-01-01T00:00:00Z", "--event-type", "case.ended"}, 0, "0 events"},
	} {
		out, status := hooks(s.args...)
		if status != s.status || !strings.Contains(out, s.says) {
			t.Errorf("webhooks %v = %d %q, want %d saying %q", s.args, status, out, s.status, s.says)
		}
	}
	out, _ = hooks("rotate-secret", id)
	rotated := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(out)
	if rotated == "" || rotated == secret || !strings.Contains(out, "old secret too") {
		t.Errorf("rotate-secret printed %q: want a new secret and when the old one stops", out)
	}
	out, _ = hooks("list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], id) || !strings.Contains(lines[1], "active") || strings.Contains(out, "whsec_") {
		t.Errorf("list = %q: want the one subscriber (the refused ones added nothing), active, no secret", out)
	}
}
