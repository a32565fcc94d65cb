package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/store/storetest"
)

const samples = "../../docs/import/"

// importEnv points the commands at a new, migrated and seeded database.
func importEnv(t *testing.T, dialect string) {
	t.Helper()
	t.Setenv("CERTDESK_DATABASE_URL", storetest.URL(t, dialect))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	for _, cmd := range [][]string{{"migrate"}, {"seed"}} {
		if err := run(context.Background(), cmd, &bytes.Buffer{}); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
}

func runImportCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"import"}, args...), &out)
	if err != nil {
		out.WriteString("error: " + err.Error() + "\n")
	}
	return exitStatus(err), out.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "error: ") {
			return lines[i]
		}
	}
	return ""
}

// The sample files import, and importing them again (in either format)
// changes nothing.
func TestImportSamples(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		importEnv(t, dialect)
		dir := t.TempDir()
		for _, tc := range []struct {
			kind, file, summary string
		}{
			{"accounts", "accounts.sample.ndjson", "inserted 4, updated 0, unchanged 0, refused 0"},
			{"accounts", "accounts.sample.csv", "inserted 0, updated 0, unchanged 4, refused 0"},
			{"profiles", "profiles.sample.csv", "inserted 4, updated 0, unchanged 0, refused 0"},
			{"profiles", "profiles.sample.ndjson", "inserted 0, updated 0, unchanged 4, refused 0"},
			{"profiles", "profiles.sample.ndjson", "inserted 0, updated 0, unchanged 4, refused 0"},
		} {
			report := filepath.Join(dir, tc.file+".report")
			status, out := runImportCmd(t, tc.kind, samples+tc.file, "--report", report)
			if status != 0 || lastLine(out) != tc.summary {
				t.Fatalf("import %s %s: exit status %d, want 0 and %q:\n%s", tc.kind, tc.file, status, tc.summary, out)
			}
			if !strings.Contains(out, "merging:") {
				t.Errorf("no progress lines:\n%s", out)
			}
			lines := reportLines(t, report)
			if len(lines) != 1 || lines[0]["type"] != "summary" {
				t.Errorf("report %v", lines)
			}
		}
	})
}

func reportLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// Refused rows make exit status 1 and are in the report with their line
// and reason; the rest is applied. A dry run reports the same and
// changes nothing.
func TestImportRefusedRowsAreExitStatus1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		importEnv(t, dialect)
		dir := t.TempDir()
		file := filepath.Join(dir, "profiles.ndjson")
		body := `{"mcid":"600001","legal_name":"Lea Brandt","email":"lea.brandt@outlook.example","status":"active"}
{"mcid":"600002","legal_name":"Lea Brandt","email":"lea brandt","status":"active"}

{"mcid":"600003","legal_name":"Lea Brandt","email":"lea.brandt@outlook.example","owner_email":"nobody@outlook.example","status":"active"}
{"mcid":"600001","legal_name":"Lea Twice","email":"lea.brandt@outlook.example","status":"active"}
`
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		report := filepath.Join(dir, "report.ndjson")
		for _, dry := range []bool{true, false} {
			args := []string{"profiles", file, "--report", report}
			if dry {
				args = append(args, "--dry-run")
			}
			status, out := runImportCmd(t, args...)
			if status != 1 || lastLine(out) != "inserted 1, updated 0, unchanged 0, refused 3" {
				t.Fatalf("dry %v: exit status %d, want 1:\n%s", dry, status, out)
			}
			if !strings.Contains(out, "line 2 refused: email:") || (dry != strings.Contains(out, "dry run: nothing was changed")) {
				t.Errorf("dry %v: output\n%s", dry, out)
			}
			lines := reportLines(t, report)
			if len(lines) != 4 {
				t.Fatalf("report %v", lines)
			}
			for i, want := range []struct {
				line  float64
				field string
			}{{2, "email"}, {4, "owner_email"}, {5, "mcid"}} {
				if lines[i]["type"] != "refused" || lines[i]["line"] != want.line || lines[i]["field"] != want.field || lines[i]["reason"] == "" {
					t.Errorf("report line %d = %v, want line %v, field %s", i, lines[i], want.line, want.field)
				}
			}
			if s := lines[3]; s["type"] != "summary" || s["refused"] != 3.0 || s["dry_run"] != dry {
				t.Errorf("summary %v", s)
			}
		}
		// The dry run applied nothing: the real run inserted the one row.
		status, out := runImportCmd(t, "profiles", file, "--report", report)
		if status != 1 || lastLine(out) != "inserted 0, updated 0, unchanged 1, refused 3" {
			t.Errorf("third run: %d\n%s", status, out)
		}
	})
}

func TestImportUsageMistakesAreExitStatus2(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CERTDESK_DATABASE_URL", filepath.Join(dir, "certdesk.db"))
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	if err := run(context.Background(), []string{"migrate"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	badHeader := filepath.Join(dir, "bad.csv")
	os.WriteFile(badHeader, []byte("mcid,nickname\n1,x\n"), 0o644)
	txt := filepath.Join(dir, "profiles.txt")
	os.WriteFile(txt, []byte("{}\n"), 0o644)
	for _, args := range [][]string{
		{},
		{"learners", samples + "profiles.sample.ndjson"},
		{"profiles"},
		{"profiles", txt},
		{"profiles", filepath.Join(dir, "missing.ndjson")},
		{"profiles", badHeader},
		{"profiles", samples + "profiles.sample.ndjson", "--batch"},
		{"profiles", samples + "profiles.sample.ndjson", samples + "profiles.sample.csv"},
	} {
		if status, out := runImportCmd(t, args...); status != 2 {
			t.Errorf("import %v: exit status %d, want 2\n%s", args, status, out)
		}
	}
	// A database that does not answer is exit status 2 too.
	t.Setenv("CERTDESK_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if status, out := runImportCmd(t, "profiles", samples+"profiles.sample.ndjson", "--report", filepath.Join(dir, "r")); status != 2 {
		t.Errorf("no database: exit status %d, want 2\n%s", status, out)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"import", "--help"}, &out); err != nil ||
		!strings.Contains(out.String(), "certdesk import profiles") || !strings.Contains(out.String(), "-dry-run") {
		t.Errorf("import --help: %v\n%s", err, out.String())
	}
}
