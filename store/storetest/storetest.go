// Package storetest gives tests a fresh, migrated store on SQLite or on the
// local PostgreSQL, and removes it afterwards.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for CREATE DATABASE

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// PostgresAdminURL is where tests create their databases; override with
// CERTDESK_TEST_POSTGRES_URL.
func PostgresAdminURL() string {
	if u := os.Getenv("CERTDESK_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Dialects are the databases store tests run against.
var Dialects = []string{"sqlite", "postgres"}

// URL returns the database URL of a new, empty database of the dialect,
// dropped when the test ends. Without PostgreSQL the test is skipped, unless
// CI=true: there a missing PostgreSQL fails the run.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == "sqlite" {
		return filepath.Join(tb.TempDir(), "certdesk.db")
	}
	admin, err := sql.Open("pgx", PostgresAdminURL())
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required in CI (%s): %v", PostgresAdminURL(), err)
		}
		tb.Skipf("PostgreSQL not reachable at %s: %v", PostgresAdminURL(), err)
	}
	name := "certdesk_test_" + strings.ToLower(certdesk.NewID())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		_, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, _ := url.Parse(PostgresAdminURL())
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated, empty store of the dialect, closed when the test ends.
func Open(tb testing.TB, dialect string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), URL(tb, dialect))
	if err != nil {
		tb.Fatalf("open %s store: %v", dialect, err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s store: %v", dialect, err)
	}
	return s
}

// Seeded returns a migrated store holding the demo world.
func Seeded(tb testing.TB, dialect string) *store.Store {
	tb.Helper()
	s := Open(tb, dialect)
	if _, err := s.Seed(context.Background()); err != nil {
		tb.Fatalf("seed %s store: %v", dialect, err)
	}
	return s
}

// Each runs f as a subtest once per dialect.
func Each(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// SetAccountStatus puts an account in a status directly, as if the
// inactivity sweep (or a recovery) had run: tests of what an inactive
// account may do use it.
func SetAccountStatus(ctx context.Context, s *store.Store, accountID, status string) error {
	if !certdesk.ValidID(accountID) || (status != certdesk.AccountActive && status != certdesk.AccountInactive) {
		return fmt.Errorf("storetest: bad account %q or status %q", accountID, status)
	}
	_, err := s.SQL().ExecContext(ctx, fmt.Sprintf("UPDATE accounts SET status = '%s' WHERE id = '%s'", status, accountID))
	return err
}
