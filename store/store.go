// Package store keeps certdesk's domain and the projection of its cases, in
// PostgreSQL (production) or SQLite (embedded). GORM and SQL stay in here:
// callers get certdesk types and certdesk errors (ErrNotFound, ErrConflict),
// never driver errors.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/certdesk/certdesk"
)

// Store is the one storage type; a file per entity adds its methods.
type Store struct {
	db      *gorm.DB
	dialect string // "postgres" or "sqlite"
	// Now is the clock; tests move it.
	Now func() time.Time
}

// Open connects to a postgres:// URL or a SQLite file path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	var (
		dialector gorm.Dialector
		dialect   string
	)
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		dialect = "postgres"
		dialector = postgres.New(postgres.Config{DSN: databaseURL})
	} else {
		dialect = "sqlite"
		dialector = sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: sqliteDSN(databaseURL)})
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		// Column names follow GORM's snake_case of the domain's field
		// names; "MCID" is one word to us.
		NamingStrategy: schema.NamingStrategy{NameReplacer: strings.NewReplacer("MCID", "Mcid", "OIDC", "Oidc")},
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, translate(err))
	}
	if err := traceStatements(db, dialect); err != nil {
		return nil, fmt.Errorf("store: tracing: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if dialect == "sqlite" {
		// One writer at a time is SQLite's rule; a small pool of readers is
		// enough beside it, and busy_timeout queues writers instead of failing.
		sqlDB.SetMaxOpenConns(4)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s := &Store{db: db, dialect: dialect, Now: func() time.Time { return time.Now().UTC() }}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns a file path into a modernc DSN: WAL, a busy timeout,
// foreign keys on, and write transactions that take the lock when they
// begin (so two writers queue instead of deadlocking on upgrade).
func sqliteDSN(path string) string {
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	q := url.Values{}
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(normal)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the database does not answer", Err: err}
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// SQL returns the underlying connection pool, for tests and benchmarks that
// check the database directly.
func (s *Store) SQL() *sql.DB {
	sqlDB, _ := s.db.DB()
	return sqlDB
}

func (s *Store) now() time.Time { return s.Now().UTC() }

// tx runs fn in a transaction; an error from fn rolls it back.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return translate(s.db.WithContext(ctx).Transaction(fn))
}

// translate turns driver errors into certdesk errors: unique and other
// constraint violations become ECONFLICT, a missing row ENOTFOUND, text
// PostgreSQL cannot store (NUL, invalid UTF-8, \u0000 in JSON) EINVALID.
// Anything else stays as it is (an internal error).
func translate(err error) error {
	if err == nil {
		return nil
	}
	var cerr *certdesk.Error
	if errors.As(err, &cerr) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return &certdesk.Error{Code: certdesk.ENOTFOUND, Message: "not found", Err: err}
	}
	if unavailable(err) {
		return &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the database is unavailable; try again", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return &certdesk.Error{Code: certdesk.ECONFLICT, Message: constraintMessage(pgErr.ConstraintName), Err: err}
		case "23503", "23514": // foreign_key_violation, check_violation
			return &certdesk.Error{Code: certdesk.ECONFLICT, Message: "the change breaks a rule of the data", Err: err}
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			return errNotText(err)
		}
	}
	if msg := err.Error(); strings.Contains(msg, "invalid byte sequence") || strings.Contains(msg, "unsupported Unicode escape") {
		return errNotText(err)
	}
	var liteErr *sqlitedriver.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &certdesk.Error{Code: certdesk.ECONFLICT, Message: constraintMessage(sqliteIndex(liteErr.Error())), Err: err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return &certdesk.Error{Code: certdesk.ECONFLICT, Message: "the change breaks a rule of the data", Err: err}
		}
	}
	return err
}

// errNotText is a value the database cannot store as text. The API refuses
// such input before it gets here; this is the net under it.
func errNotText(err error) error {
	return &certdesk.Error{Code: certdesk.EINVALID, Message: "the request holds text that cannot be stored (a NUL character or invalid UTF-8)", Err: err}
}

// unavailable reports whether err means the database is not reachable now
// (a dropped or refused connection, the server shutting down): a 503 to try
// again, not an internal error.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "08000", "08003", "08006": // admin/crash shutdown, cannot connect now, connection failures
			return true
		}
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// constraintMessages says which rule a unique violation broke, in words.
var constraintMessages = map[string]string{
	"certification_profiles_mcid":      "a certification profile with this MCID already exists",
	"certification_profiles_connected": "this learning profile already has a connected certification profile",
	"accounts_email":                   "an account with this email already exists",
	"agents_email":                     "an agent with this email already exists",
	"emails_case_step":                 "an email for this case step was already recorded",
	"link_tokens_live":                 "a link for this case step is already live",
}

func constraintMessage(name string) string {
	if m, ok := constraintMessages[name]; ok {
		return m
	}
	return "it already exists"
}

// sqliteIndex finds which unique index SQLite names in its message
// ("UNIQUE constraint failed: certification_profiles.mcid"): SQLite names
// columns, not indexes, so map the table.column list back.
func sqliteIndex(msg string) string {
	_, cols, ok := strings.Cut(msg, "constraint failed: ")
	if !ok {
		return ""
	}
	cols = strings.TrimSuffix(strings.TrimSpace(cols), ")")
	if i := strings.Index(cols, " ("); i >= 0 {
		cols = cols[:i]
	}
	for name, columns := range sqliteUniqueColumns {
		if cols == columns {
			return name
		}
	}
	return ""
}

var sqliteUniqueColumns = map[string]string{
	"certification_profiles_mcid":      "certification_profiles.mcid",
	"certification_profiles_connected": "certification_profiles.connected_learning_profile_id",
	"accounts_email":                   "accounts.email",
	"agents_email":                     "agents.email",
	"emails_case_step":                 "emails.case_id, emails.step",
	"link_tokens_live":                 "link_tokens.case_id, link_tokens.step",
}

// logErr logs an unexpected store error once, where its detail is known.
func logErr(ctx context.Context, op string, err error) {
	if certdesk.ErrorCode(err) == certdesk.EINTERNAL {
		slog.ErrorContext(ctx, "store", "op", op, "err", err)
	}
}
