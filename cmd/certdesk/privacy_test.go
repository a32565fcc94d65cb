package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/store"
)

// `certdesk privacy export` writes a person's copy as JSON (to stdout or a
// private file), audits it, and refuses a usage mistake with status 2.
func TestPrivacyExport(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(t.TempDir(), "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	ctx := context.Background()
	for _, c := range [][]string{{"migrate"}, {"seed"}} {
		if err := run(ctx, c, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"privacy", "export", "--email", "Ana.Silva@Outlook.example"}, &out); err != nil {
		t.Fatal(err)
	}
	var data store.PersonalData
	if err := json.Unmarshal(out.Bytes(), &data); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if data.Email != "ana.silva@outlook.example" || len(data.Accounts) == 0 || len(data.CertificationProfiles) != 1 || data.CertificationProfiles[0]["mcid"] != "100001" {
		t.Errorf("Ana's copy: %d accounts, profiles %v", len(data.Accounts), data.CertificationProfiles)
	}
	file := filepath.Join(t.TempDir(), "ana.json")
	out.Reset()
	if err := run(ctx, []string{"privacy", "export", "--email", "ana.silva@outlook.example", "--out", file}, &out); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(out.String(), "1 certification profiles") {
		t.Errorf("the file: %v %v; said %q", st, err, out.String())
	}
	for _, bad := range [][]string{{"privacy", "export"}, {"privacy", "export", "--email", "not an address"}, {"privacy", "erase"}} {
		if err := run(ctx, bad, &bytes.Buffer{}); exitStatus(err) != 2 {
			t.Errorf("%v: status %d (%v), want 2", bad, exitStatus(err), err)
		}
	}
	s, err := store.Open(ctx, os.Getenv("CERTDESK_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	entries, err := s.AuditLog(ctx, "system", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "personal_data_exported" && strings.Contains(string(e.Data), "ana.silva@outlook.example") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audit entries of the exports, want 2", n)
	}
}
