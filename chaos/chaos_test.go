package chaos_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/stacktest"

	"github.com/certdesk/certdesk/chaos"
	"github.com/certdesk/certdesk/store/storetest"
)

// requirePostgres skips without PostgreSQL (fails in CI, as the store
// tests do).
func requirePostgres(t *testing.T) {
	t.Helper()
	db, err := sql.Open("pgx", storetest.PostgresAdminURL())
	if err == nil {
		err = db.Ping()
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
}

// The chaos run's short form, for CI: a few dozen cases of every kind
// through worker kills every ~3 s, rolling SIGTERM restarts of the worker
// every ~10 s, a restart of the Temporal server and one of the run's own
// PostgreSQL, three database drops and SendGrid's 429, 500 and slow
// answers. The full form is `make chaos` (see the README).
//
// The cooling-off is a minute: it counts from the agent's approval, and a
// "this wasn't me" notice whose send a kill interrupted goes out ~30 s
// later (the activity's timeout), so a shorter one would leave the
// scripted owner too little time to cancel.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Temporal, PostgreSQL and worker processes for a minute or two")
	}
	requirePostgres(t)
	bin := stacktest.Binary(t) // the chaos runs its `worker` command as the child processes it kills
	// The API in this process logs every request; only errors here.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	rep, err := chaos.Run(ctx, chaos.Options{
		Cases: 40, KillEvery: 3 * time.Second, TermEvery: 10 * time.Second,
		TemporalRestarts: 1, PostgresRestarts: 1, RestartEvery: 30 * time.Second,
		DBDrops: 3, DropEvery: 8 * time.Second, CoolingOff: 60 * time.Second,
		Binary: bin, PostgresURL: storetest.PostgresAdminURL(), Timeout: 6 * time.Minute,
		Progress: testWriter{t},
	})
	if rep != nil {
		t.Log("\n" + rep.Summary())
	}
	if err != nil {
		t.Fatal(err)
	}
	if b, err := json.Marshal(rep); err == nil {
		t.Logf("report: %s", b)
	}
	if !rep.OK() {
		t.Fatal("the chaos run found problems (above)")
	}
	// The run was a chaos run: it did kill, drop and get errors.
	if rep.Kills < 3 || rep.SIGTERMs < 2 || rep.TemporalRestarts < 1 || rep.DBDrops < 3 || rep.ProviderErrors == 0 {
		t.Errorf("too little chaos: %d kills, %d SIGTERMs, %d Temporal restarts, %d database drops, %d provider errors",
			rep.Kills, rep.SIGTERMs, rep.TemporalRestarts, rep.DBDrops, rep.ProviderErrors)
	}
	// PostgreSQL itself restarted, unless this machine lacks its programs
	// (the report says so); CI has them.
	if rep.PostgresRestarts < 1 {
		if os.Getenv("CI") == "true" || !strings.Contains(rep.Postgres, "NOT restarted") {
			t.Errorf("PostgreSQL was not restarted: %s", rep.Postgres)
		} else {
			t.Log(rep.Postgres)
		}
	}
	for _, kind := range []string{"connect", "merge", "recovery"} {
		if rep.CasesByKind[kind] == 0 {
			t.Errorf("no %s case ran", kind)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
