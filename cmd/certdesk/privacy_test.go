package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/stacktest"
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

// `certdesk privacy erase` erases a person with the api's environment: the
// address is then nowhere in the store and their own key is destroyed; a
// missing reason is a usage mistake. `certdesk keys reseal` seals the
// remaining keys with the new payload key after a rotation.
func TestPrivacyEraseAndKeysReseal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	k1, k2 := codec.NewKey("k1"), codec.NewKey("k2")
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(t.TempDir(), "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", strings.Repeat("s", 40))
	t.Setenv("CERTDESK_PUBLIC_URL", "https://certdesk.example")
	t.Setenv("CERTDESK_PAYLOAD_KEYS", k1)
	t.Setenv("TEMPORAL_ADDRESS", stacktest.Temporal(t).HostPort())
	t.Setenv("TEMPORAL_NAMESPACE", devserver.Namespace)
	ctx := context.Background()
	for _, c := range [][]string{{"migrate"}, {"seed"}} {
		if err := run(ctx, c, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := store.Open(ctx, os.Getenv("CERTDESK_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cd, _ := codec.Parse(k1)
	for _, who := range []string{"ana.silva@outlook.example", "ben.okafor@contoso.example"} {
		if _, err := s.SubjectKeyID(ctx, who, cd.NewSubjectKey); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(ctx, []string{"privacy", "erase", "--email", "ana.silva@outlook.example"}, &bytes.Buffer{}); exitStatus(err) != 2 {
		t.Errorf("erase without a reason: status %d (%v), want 2", exitStatus(err), err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"privacy", "erase", "--email", "Ana.Silva@Outlook.example", "--reason", "asked by post"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 keys destroyed") || !strings.Contains(out.String(), "ana.silva@outlook.example appears nowhere in the store") {
		t.Errorf("erase said %q", out.String())
	}
	for _, secret := range []string{"ana.silva@outlook.example", "Ana Silva"} {
		if found, err := s.Occurrences(ctx, secret); err != nil || len(found) > 0 {
			t.Errorf("%q is still in the store: %v %v", secret, found, err)
		}
	}
	if found, _ := s.Occurrences(ctx, "ben.okafor@contoso.example"); len(found) == 0 {
		t.Error("Ben was erased too")
	}

	t.Setenv("CERTDESK_PAYLOAD_KEYS", k2+","+k1)
	out.Reset()
	if err := run(ctx, []string{"keys", "reseal"}, &out); err != nil || !strings.Contains(out.String(), "resealed 1 keys with payload key k2") {
		t.Errorf("reseal: %q %v", out.String(), err)
	}
}
