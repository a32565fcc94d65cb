package chaos

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/store"
)

// The run's own PostgreSQL: initdb, start, a store on it, a fast restart
// that cuts the store's connections, and the store working again on the
// same data (the machine's shared server is never touched).
func TestPrivatePostgresRestarts(t *testing.T) {
	bin := postgresBinaries("")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL programs (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
		}
		t.Skip("no PostgreSQL programs on this machine")
	}
	pg, err := startPostgres(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		pg.stop()
		pg.remove()
		if _, err := os.Stat(pg.dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the server's folder %s is still there after stop and remove (%v)", pg.dir, err)
		}
	}()
	if strings.Contains(pg.AdminURL(), ":5432/") {
		t.Fatalf("the run's own server took the shared server's port: %s", pg.AdminURL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL, _, admin, err := store.CreateDatabase(ctx, pg.AdminURL(), "certdesk_pgtest_")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	var pidBefore, pidAfter int
	if err := admin.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pidBefore); err != nil {
		t.Fatal(err)
	}

	took, err := pg.Restart()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restart took %v", took)
	if got := pg.Restarts(); len(got) != 1 {
		t.Errorf("restarts recorded: %v, want one", got)
	}

	// The old connections are gone: the pool dials again (the first query
	// on a dead connection may fail, as activities see it and retry).
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = admin.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pidAfter)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if pidAfter == pidBefore {
		t.Errorf("the admin connection survived a restart (backend %d): the server did not restart", pidBefore)
	}
	var agents int
	for {
		as, err := st.Agents(ctx, "")
		if err == nil {
			agents = len(as)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if agents == 0 {
		t.Error("the seeded agents are gone after the restart")
	}
}

// A worker sent SIGTERM must exit 0 within its stop timeout: one that
// does is not a violation; one that ignores SIGTERM is killed and is; one
// that exits non-zero is.
func TestSIGTERMViolations(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, body string
		violation  string // "" for none
	}{
		{"graceful", `trap 'exit 0' TERM; while :; do sleep 0.05; done`, ""},
		{"deaf", `trap '' TERM; while :; do sleep 0.05; done`, "was killed"},
		{"failing", `trap 'exit 3' TERM; while :; do sleep 0.05; done`, "exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &workers{bin: script(tc.name, tc.body), log: io.Discard, stopTimeout: 300 * time.Millisecond, grace: 700 * time.Millisecond}
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the trap is set
			if err := w.Restart(); err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			terms := w.Terms()
			if len(terms) != 1 {
				t.Fatalf("terms %v, want one", terms)
			}
			v := w.violations()
			switch {
			case tc.violation == "" && len(v) > 0:
				t.Errorf("violations %q, want none (took %v)", v, terms[0].Took)
			case tc.violation != "" && (len(v) != 1 || !strings.Contains(v[0], tc.violation)):
				t.Errorf("violations %q, want one saying %q", v, tc.violation)
			}
			if tc.violation == "was killed" && len(w.Kills()) != 1 {
				t.Errorf("a killed worker is not among the kills (which explain duplicates): %v", w.Kills())
			}
			w.mu.Lock()
			starts, crashes := w.starts, len(w.crashes)
			w.mu.Unlock()
			if starts != 2 || crashes != 0 {
				t.Errorf("%d starts and %d crashes, want 2 and 0: the replaced worker is not a crash", starts, crashes)
			}
		})
	}
}

// Without the PostgreSQL programs the run falls back to the shared
// server, never restarts it, and its report says so.
func TestNoPostgresProgramsFallsBackToTheSharedServer(t *testing.T) {
	rep := &Report{}
	pg, err := privatePostgres(Options{PostgresRestarts: 2, PostgresBin: t.TempDir(), PostgresURL: "postgres://postgres:secret@127.0.0.1:5432/postgres"}, rep)
	if err != nil || pg != nil {
		t.Fatalf("privatePostgres = %v, %v; want no server and no error", pg, err)
	}
	for _, want := range []string{"NOT restarted", "connections were cut", "127.0.0.1:5432"} {
		if !strings.Contains(rep.Postgres, want) {
			t.Errorf("report's postgres line %q does not say %q", rep.Postgres, want)
		}
	}
	if strings.Contains(rep.Postgres, "secret") {
		t.Errorf("report's postgres line shows the password: %q", rep.Postgres)
	}
}
