package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// Records are staged before they are merged: written as they come into
// temporary tables of the session (PostgreSQL's COPY on a connection of its
// own; batched INSERTs on SQLite and inside a transaction), then merged
// into the domain's tables by SQL that both databases run (import_merge.go).
// A staging table is the session's own, so two imports never see each
// other's rows, and it goes away with the connection.

// stageTable is a temporary table records are staged in; cols are the
// columns staging writes, in the order of each row's values.
type stageTable struct {
	name string
	ddl  string // the column definitions; TIME is the dialect's timestamp type
	cols []string
}

var (
	stageProfiles = stageTable{name: "import_profiles",
		ddl: `line INTEGER PRIMARY KEY, mcid TEXT NOT NULL DEFAULT '', legal_name TEXT, email TEXT, owner_email TEXT,
			status TEXT, merged_into TEXT, created_at TIME, deactivated_at TIME, new_id TEXT,
			refusal TEXT, refusal_code TEXT, refusal_field TEXT,
			profile_id TEXT, owner_id TEXT, merged_into_id TEXT, changed TEXT, case_id TEXT`,
		cols: []string{"line", "mcid", "legal_name", "email", "owner_email", "status", "merged_into", "created_at", "deactivated_at", "new_id",
			"refusal", "refusal_code", "refusal_field"}}
	stageCertifications = stageTable{name: "import_certifications",
		ddl:  `line INTEGER NOT NULL, n INTEGER NOT NULL, id TEXT NOT NULL, code TEXT NOT NULL, title TEXT NOT NULL, earned_at TIME NOT NULL, expires_at TIME, PRIMARY KEY (line, n)`,
		cols: []string{"line", "n", "id", "code", "title", "earned_at", "expires_at"}}
	stageExams = stageTable{name: "import_exams",
		ddl: `line INTEGER NOT NULL, n INTEGER NOT NULL, id TEXT NOT NULL, code TEXT NOT NULL, title TEXT NOT NULL, taken_at TIME NOT NULL,
			score INTEGER NOT NULL, passed BOOLEAN NOT NULL, PRIMARY KEY (line, n)`,
		cols: []string{"line", "n", "id", "code", "title", "taken_at", "score", "passed"}}
	stageAccounts = stageTable{name: "import_accounts",
		ddl: `line INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '', kind TEXT, display_name TEXT, last_sign_in_at TIME, created_at TIME,
			new_id TEXT, learning_profile_id TEXT, status TEXT,
			refusal TEXT, refusal_code TEXT, refusal_field TEXT, account_id TEXT, changed TEXT, case_id TEXT`,
		cols: []string{"line", "email", "kind", "display_name", "last_sign_in_at", "created_at", "new_id", "learning_profile_id", "status",
			"refusal", "refusal_code", "refusal_field"}}
)

// createStage makes the session's staging tables when they are not there.
func (s *Store) createStage(db *gorm.DB, tables []stageTable) error {
	for _, t := range tables {
		ddl := strings.ReplaceAll(t.ddl, "TIME", dialectTypes[s.dialect].Time)
		if err := db.Exec("CREATE TEMP TABLE IF NOT EXISTS " + t.name + " (" + ddl + ")").Error; err != nil {
			return err
		}
	}
	return nil
}

// clearStage empties staging tables; truncate (PostgreSQL) after a bulk
// load, where DELETE would leave every row behind for VACUUM.
func (s *Store) clearStage(db *gorm.DB, tables []stageTable, truncate bool) error {
	for _, t := range tables {
		q := "DELETE FROM " + t.name
		if truncate && s.dialect == "postgres" {
			q = "TRUNCATE " + t.name
		}
		if err := db.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// stageBuffer holds the rows of a chunk of records until they are written.
type stageBuffer struct {
	rows map[string][][]any
	n    int // records (main rows) in the chunk
}

func newStageBuffer() *stageBuffer { return &stageBuffer{rows: map[string][][]any{}} }

func (b *stageBuffer) add(t stageTable, row ...any) {
	if len(row) != len(t.cols) {
		panic(fmt.Sprintf("store: %d values for the %d columns of %s", len(row), len(t.cols), t.name))
	}
	b.rows[t.name] = append(b.rows[t.name], row)
}

func (b *stageBuffer) reset() {
	for k, rows := range b.rows {
		b.rows[k] = rows[:0]
	}
	b.n = 0
}

// stager writes staged rows: COPY through a connection's own pgx.Conn
// when there is one (PostgreSQL, outside a transaction), else INSERTs.
type stager struct {
	s    *Store
	db   *gorm.DB
	conn *sql.Conn // nil: INSERT through db
}

// flush writes the buffer's rows, table by table in the order given.
func (st stager) flush(ctx context.Context, b *stageBuffer, tables []stageTable) error {
	for _, t := range tables {
		rows := b.rows[t.name]
		if len(rows) == 0 {
			continue
		}
		var err error
		if st.conn != nil {
			err = st.copy(ctx, t, rows)
		} else {
			err = st.db.Transaction(func(tx *gorm.DB) error { return insertRows(tx, t, rows) })
		}
		if err != nil {
			return fmt.Errorf("stage %s: %w", t.name, err)
		}
	}
	b.reset()
	return nil
}

func (st stager) copy(ctx context.Context, t stageTable, rows [][]any) error {
	return st.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rows))
		return err
	})
}

// insertParams bounds the parameters of one INSERT (SQLite allows 32,766).
const insertParams = 30_000

func insertRows(db *gorm.DB, t stageTable, rows [][]any) error {
	per := max(1, insertParams/len(t.cols))
	head := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES "
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*len(t.cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ")
		if err := db.Exec(q, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// record is what a record type offers the import.
type record[T any] interface {
	Validate() error
	Canonical() T
}

// recordKind is what the import needs to know of a record type.
type recordKind[T record[T]] struct {
	what   string // in messages: "certification profile"
	main   stageTable
	tables []stageTable // main first
	key    string       // the main table's key column
	keyOf  func(T) string
	stage  func(b *stageBuffer, line int, r T, ids *seedRows, now time.Time)
	merge  func(s *Store, tx *gorm.DB, b batch) (counts, error)
	source string // the history's source of a single upsert
}

var profileKind = &recordKind[certdesk.ProfileRecord]{
	what: "certification profile", main: stageProfiles, tables: []stageTable{stageProfiles, stageCertifications, stageExams},
	key: "mcid", keyOf: func(r certdesk.ProfileRecord) string { return r.MCID },
	stage: stageProfile, merge: (*Store).mergeProfileRecords, source: "integration",
}

var accountKind = &recordKind[certdesk.AccountRecord]{
	what: "account", main: stageAccounts, tables: []stageTable{stageAccounts},
	key: "email", keyOf: func(r certdesk.AccountRecord) string { return certdesk.NormalizeEmail(r.Email) },
	stage: stageAccount, merge: (*Store).mergeAccountRecords, source: "integration",
}

func stageProfile(b *stageBuffer, line int, r certdesk.ProfileRecord, ids *seedRows, now time.Time) {
	var deactivated *time.Time
	if r.Status == certdesk.ProfileInactive {
		deactivated = &now
	}
	b.add(stageProfiles, line, r.MCID, r.LegalName, r.Email, r.OwnerEmail, r.Status, r.MergedInto, r.CreatedAt, deactivated,
		ids.profile(r.MCID), nil, nil, nil)
	for i, c := range r.Certifications {
		b.add(stageCertifications, line, i, ids.certification(r.MCID, c), c.Code, c.Title, c.EarnedAt, c.ExpiresAt)
	}
	for i, e := range r.Exams {
		b.add(stageExams, line, i, ids.exam(r.MCID, e), e.Code, e.Title, e.TakenAt, *e.Score, *e.Passed)
	}
	b.n++
}

func stageAccount(b *stageBuffer, line int, r certdesk.AccountRecord, ids *seedRows, now time.Time) {
	lp, status := ids.accountRow(r.Email)
	b.add(stageAccounts, line, r.Email, r.Kind, r.DisplayName, r.LastSignInAt, r.CreatedAt, ids.account(r.Email), lp, status, nil, nil, nil)
	b.n++
}

// refuse stages a row refused before the merge: its line, its key, why.
func (b *stageBuffer) refuse(t stageTable, line int, key, field, reason, code string) {
	row := make([]any, len(t.cols))
	row[0], row[1] = line, safeText(key)
	n := len(row)
	row[n-3], row[n-2], row[n-1] = safeText(reason), code, field
	b.add(t, row...)
	b.n++
}

// safeText is s as text a database keeps (invalid bytes and control
// characters replaced), for what a refusal quotes of its row.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// seedRows gives an import fixed ids and the account columns a record does
// not carry (the demo world's); nil gives new ids, active accounts on no
// learning profile.
type seedRows struct {
	id       func(name string) string
	accounts map[string]seedAccount // by email
}

type seedAccount struct {
	learningProfileID *string
	status            string
}

func (r *seedRows) profile(mcid string) string {
	if r == nil {
		return certdesk.NewID()
	}
	return r.id("profile:" + mcid)
}

func (r *seedRows) certification(mcid string, c certdesk.CertificationRecord) string {
	if r == nil {
		return certdesk.NewID()
	}
	return r.id("cert:" + mcid + ":" + c.Code)
}

func (r *seedRows) exam(mcid string, e certdesk.ExamRecord) string {
	if r == nil {
		return certdesk.NewID()
	}
	return r.id(fmt.Sprintf("exam:%s:%s:%d", mcid, e.Code, e.TakenAt.Year()))
}

func (r *seedRows) account(email string) string {
	if r == nil {
		return certdesk.NewID()
	}
	return r.id("account:" + email)
}

func (r *seedRows) accountRow(email string) (*string, string) {
	if r == nil {
		return nil, certdesk.AccountActive
	}
	a, ok := r.accounts[email]
	if !ok {
		return nil, certdesk.AccountActive
	}
	return a.learningProfileID, a.status
}
