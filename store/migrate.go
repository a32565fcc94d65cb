package store

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// Migrations are numbered SQL files, embedded, applied in order, each in its
// own transaction, recorded in schema_migrations. A file is written once for
// both databases; the few types that differ are template fields.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	Version int
	Name    string
	SQL     string
}

// dialectTypes fill the migration templates.
var dialectTypes = map[string]struct {
	Time, JSON string
	Postgres   bool // for statements only PostgreSQL has (extensions, GIN)
}{
	// SQLite's driver parses a column back into time.Time only when its
	// declared type is TIMESTAMP (or DATE, DATETIME).
	"sqlite":   {Time: "TIMESTAMP", JSON: "TEXT"},
	"postgres": {Time: "TIMESTAMPTZ", JSON: "JSONB", Postgres: true},
}

func (s *Store) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name it NNNN_what.sql", e.Name())
		}
		raw, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(e.Name()).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, dialectTypes[s.dialect]); err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{Version: version, Name: name, SQL: buf.String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migrations must be numbered 1, 2, 3…; found %d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// MigrationResult says what Migrate did.
type MigrationResult struct {
	Applied []string // "0001_init", in order
	Version int      // the schema version after the run
}

// Migrate applies the migrations that are not applied yet. Running it again
// changes nothing. On PostgreSQL an advisory lock keeps two processes that
// start together from applying the same migration twice.
func (s *Store) Migrate(ctx context.Context) (MigrationResult, error) {
	var res MigrationResult
	ms, err := s.migrations()
	if err != nil {
		return res, err
	}
	db := s.db.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at ` + dialectTypes[s.dialect].Time + ` NOT NULL)`).Error; err != nil {
		return res, fmt.Errorf("store: create schema_migrations: %w", translate(err))
	}
	err = s.withMigrationLock(ctx, func(db *gorm.DB) error {
		var applied []int
		if err := db.Raw(`SELECT version FROM schema_migrations ORDER BY version`).Scan(&applied).Error; err != nil {
			return err
		}
		done := map[int]bool{}
		for _, v := range applied {
			done[v] = true
			res.Version = max(res.Version, v)
		}
		for _, m := range ms {
			if done[m.Version] {
				continue
			}
			err := db.Transaction(func(tx *gorm.DB) error {
				for _, stmt := range splitStatements(m.SQL) {
					if err := tx.Exec(stmt).Error; err != nil {
						return fmt.Errorf("%w\n-- in statement:\n%s", err, stmt)
					}
				}
				if s.dialect == "sqlite" {
					for _, e := range sqliteCheckEdits[m.Version] {
						if err := e.apply(tx); err != nil {
							return err
						}
					}
				}
				return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
					m.Version, m.Name, time.Now().UTC()).Error
			})
			if err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			res.Applied = append(res.Applied, fmt.Sprintf("%04d_%s", m.Version, m.Name))
			res.Version = m.Version
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("store: migrate: %w", err)
	}
	return res, nil
}

// checkEdit widens a CHECK constraint of a SQLite table. SQLite cannot
// alter a constraint, and rebuilding a table that others reference is a
// dozen steps with foreign keys off; loosening one needs neither: the
// table's definition is rewritten in the schema and the schema version
// bumped, so every connection reads it again (the procedure SQLite's
// documentation gives for such changes, "Making Other Kinds Of Table
// Schema Changes"). PostgreSQL's half of the migration is plain SQL.
type checkEdit struct{ Table, Old, New string }

// sqliteCheckEdits are the migrations' SQLite constraint edits, by version.
var sqliteCheckEdits = map[int][]checkEdit{
	13: {{Table: "cases", Old: "kind IN ('connect', 'merge', 'recovery')", New: "kind IN ('connect', 'merge', 'recovery', 'unmerge')"}},
	14: {{Table: "cases", Old: "'recovery', 'unmerge')", New: "'recovery', 'unmerge', 'inquiry')"}},
}

func (e checkEdit) apply(tx *gorm.DB) error {
	var def string
	if err := tx.Raw(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, e.Table).Scan(&def).Error; err != nil {
		return err
	}
	if strings.Count(def, e.Old) != 1 {
		return fmt.Errorf("table %s: expected %q once in its definition", e.Table, e.Old)
	}
	var version int
	if err := tx.Raw(`PRAGMA schema_version`).Scan(&version).Error; err != nil {
		return err
	}
	for _, stmt := range []string{
		`PRAGMA writable_schema = ON`,
		fmt.Sprintf(`UPDATE sqlite_schema SET sql = '%s' WHERE type = 'table' AND name = '%s'`,
			strings.ReplaceAll(strings.Replace(def, e.Old, e.New, 1), "'", "''"), e.Table),
		fmt.Sprintf(`PRAGMA schema_version = %d`, version+1),
		`PRAGMA writable_schema = OFF`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("table %s: %w", e.Table, err)
		}
	}
	return nil
}

// withMigrationLock serializes migrators: a PostgreSQL advisory lock held on
// one connection; SQLite's own write lock does it there.
func (s *Store) withMigrationLock(ctx context.Context, fn func(db *gorm.DB) error) error {
	if s.dialect != "postgres" {
		return fn(s.db.WithContext(ctx))
	}
	return s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		const key = 7_263_114_002 // any constant: "certdesk migrations"
		if err := conn.Exec(`SELECT pg_advisory_lock(?)`, key).Error; err != nil {
			return err
		}
		defer conn.Exec(`SELECT pg_advisory_unlock(?)`, key)
		return fn(conn)
	})
}

// splitStatements splits a migration on semicolons at line ends, dropping
// comment-only pieces. Migrations keep one statement per `;\n`.
func splitStatements(sql string) []string {
	var out []string
	for _, part := range strings.Split(sql, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		if stmt := strings.TrimSpace(strings.Join(lines, "\n")); stmt != "" {
			out = append(out, strings.TrimSuffix(stmt, ";"))
		}
	}
	return out
}

// SchemaVersion returns the highest applied migration (0 on an empty database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.db.WithContext(ctx).Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&v).Error
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", translate(err))
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// CheckSchema refuses to run against a database whose schema is older or
// newer than this binary's migrations.
func (s *Store) CheckSchema(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	want := len(ms)
	got, err := s.SchemaVersion(ctx)
	if err != nil {
		return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the database schema is missing: run `certdesk migrate`", Err: err}
	}
	switch {
	case got < want:
		return certdesk.Errorf(certdesk.EUNAVAILABLE, "the database schema is at version %d, this binary needs %d: run `certdesk migrate`", got, want)
	case got > want:
		return certdesk.Errorf(certdesk.EUNAVAILABLE, "the database schema is at version %d, newer than this binary's %d: deploy the newer binary", got, want)
	}
	return nil
}
