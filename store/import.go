package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// Records from the systems of record come in one at a time (the
// integration API's UpsertProfile and UpsertAccount) or by the million
// (`certdesk import`, ImportProfiles and ImportAccounts). Both stage the
// records and run the same merge (import_merge.go): the same record gives
// the same outcome whichever door it takes, and the same input twice
// changes nothing.

// Outcome is what a record did.
type Outcome string

const (
	OutcomeInserted  Outcome = "inserted"
	OutcomeUpdated   Outcome = "updated"
	OutcomeUnchanged Outcome = "unchanged"
)

// UpsertProfile applies a certification profile record, keyed by its MCID:
// a new profile is inserted, a changed one updated (its history recorded
// in the same transaction), the same one left unchanged. Refused: EINVALID
// with the bad fields (an owner_email certdesk has no account for
// included); ECONFLICT when the profile takes part in an open case (the
// message names the case) or when the record would merge or unmerge it.
func (s *Store) UpsertProfile(ctx context.Context, r certdesk.ProfileRecord) (Outcome, error) {
	out, err := upsertOne(ctx, s, profileKind, r)
	if err != nil {
		return "", fmt.Errorf("store: upsert certification profile: %w", err)
	}
	return out, nil
}

// UpsertAccount applies an account record, keyed by its email: its display
// name follows the record, its last sign-in moves forward only. Refused:
// EINVALID with the bad fields; ECONFLICT when the record gives another
// kind than certdesk's.
func (s *Store) UpsertAccount(ctx context.Context, r certdesk.AccountRecord) (Outcome, error) {
	out, err := upsertOne(ctx, s, accountKind, r)
	if err != nil {
		return "", fmt.Errorf("store: upsert account: %w", err)
	}
	return out, nil
}

// RecordSource yields an import's records in the order of its file.
type RecordSource[T any] interface {
	// Next returns the next record and the line it starts on, lines
	// growing; io.EOF after the last. A row that is not a record is a
	// *RowError: it is refused and the import goes on. Any other error
	// ends the import.
	Next() (line int, rec T, err error)
}

// RowError is a row of an import that could not be read as a record.
type RowError struct {
	Line   int
	Key    string // the row's MCID or email, when it could be read
	Field  string
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportOptions shape an import.
type ImportOptions struct {
	// DryRun computes the same report and changes nothing: the whole
	// merge runs in one transaction that is rolled back.
	DryRun bool
	// BatchSize is the records merged per transaction (default 10,000).
	BatchSize int
	// Progress, when set, hears of every chunk staged and batch merged.
	Progress func(ImportProgress)
	// Refused, when set, receives every refused row in line order, once
	// the merge is done.
	Refused func(Refusal) error

	// seed gives the demo world its fixed ids and what accounts hold
	// beyond a record.
	seed *seedRows
	// keepExisting leaves rows that exist as they are (the seed).
	keepExisting bool
}

// ImportProgress is where an import is: "staging" (Rows read so far) or
// "merging" (Rows of Total merged).
type ImportProgress struct {
	Phase       string
	Rows, Total int
}

// Refusal is a refused row of an import: its line, its key (MCID or
// email, when it could be read), the field at fault and why (each field at
// fault named: "email: this is not an email address").
type Refusal struct {
	Line   int    `json:"line"`
	Key    string `json:"key,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	CaseID string `json:"case_id,omitempty"`
}

// ImportReport counts what an import did (or, dry, would do).
type ImportReport struct {
	Inserted  int  `json:"inserted"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Refused   int  `json:"refused"`
	DryRun    bool `json:"dry_run"`
	// Certifications and Exams count those added, to new profiles and
	// to existing ones.
	Certifications int `json:"certifications_added"`
	Exams          int `json:"exams_added"`
}

// ImportProfiles loads certification profile records: staged as they are
// read (COPY on PostgreSQL), then merged in batches, each in its own
// transaction (all of a batch or none of it), with the rules of
// UpsertProfile. A row that repeats an MCID of an earlier line is refused.
// Memory stays flat whatever the size of the source.
func (s *Store) ImportProfiles(ctx context.Context, src RecordSource[certdesk.ProfileRecord], opts ImportOptions) (ImportReport, error) {
	rep, err := importRecords(ctx, s, profileKind, src, opts)
	if err != nil {
		return rep, fmt.Errorf("store: import certification profiles: %w", err)
	}
	return rep, nil
}

// ImportAccounts loads account records as ImportProfiles does, with the
// rules of UpsertAccount.
func (s *Store) ImportAccounts(ctx context.Context, src RecordSource[certdesk.AccountRecord], opts ImportOptions) (ImportReport, error) {
	rep, err := importRecords(ctx, s, accountKind, src, opts)
	if err != nil {
		return rep, fmt.Errorf("store: import accounts: %w", err)
	}
	return rep, nil
}

// refusalOf describes a Validate error: the first bad field, and every
// field with its message.
func refusalOf(err error) (field, reason string) {
	fields := certdesk.ErrorFields(err)
	if len(fields) == 0 {
		return "", certdesk.ErrorMessage(err)
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + ": " + fields[k]
	}
	return names[0], strings.Join(parts, "; ")
}

// stageChunk is the most records held in memory before they are written.
const stageChunk = 5000

const defaultBatch = 10_000

var errDryRun = errors.New("dry run: roll back")

func importRecords[T record[T]](ctx context.Context, s *Store, k *recordKind[T], src RecordSource[T], opts ImportOptions) (ImportReport, error) {
	rep := ImportReport{DryRun: opts.DryRun}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatch
	}
	now := s.now()
	err := s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if err := s.createStage(conn, k.tables); err != nil {
			return err
		}
		if err := s.clearStage(conn, k.tables, true); err != nil {
			return err
		}
		defer s.clearStage(conn, k.tables, true)
		st := stager{s: s, db: conn}
		if s.dialect == "postgres" {
			st.conn, _ = conn.Statement.ConnPool.(*sql.Conn)
		}
		bounds, total, err := stageAll(ctx, st, k, src, opts, now)
		if err != nil {
			return err
		}
		if s.dialect == "postgres" {
			// Temporary tables have no statistics until asked: the
			// merge's joins are planned from them.
			for _, t := range k.tables {
				if err := conn.Exec("ANALYZE " + t.name).Error; err != nil {
					return err
				}
			}
		}
		if err := conn.Exec(duplicatesSQL(k.main, k.key)).Error; err != nil {
			return err
		}
		merge := func(db *gorm.DB) error {
			lo, done := 0, 0
			for _, hi := range bounds {
				b := batch{lo: lo, hi: hi, now: now, source: "import", keepExisting: opts.keepExisting}
				c, err := mergeBatch(s, db, k, b)
				if err != nil {
					return fmt.Errorf("lines %d to %d: %w", lo, hi, err)
				}
				rep.Inserted, rep.Updated, rep.Unchanged, rep.Refused = rep.Inserted+c.Inserted, rep.Updated+c.Updated, rep.Unchanged+c.Unchanged, rep.Refused+c.Refused
				rep.Certifications, rep.Exams = rep.Certifications+c.Certifications, rep.Exams+c.Exams
				done += c.Inserted + c.Updated + c.Unchanged + c.Refused
				if opts.Progress != nil {
					opts.Progress(ImportProgress{Phase: "merging", Rows: done, Total: total})
				}
				lo = hi + 1
			}
			return streamRefusals(db, k.main, k.key, opts.Refused)
		}
		if !opts.DryRun {
			return merge(conn)
		}
		err = conn.Transaction(func(tx *gorm.DB) error {
			if err := merge(tx); err != nil {
				return err
			}
			return errDryRun
		})
		if errors.Is(err, errDryRun) {
			return nil
		}
		return err
	})
	return rep, translate(err)
}

// stageAll reads the source into the staging tables, a chunk at a time,
// and returns the last line of each batch and the rows read.
func stageAll[T record[T]](ctx context.Context, st stager, k *recordKind[T], src RecordSource[T], opts ImportOptions, now time.Time) ([]int, int, error) {
	buf := newStageBuffer()
	var (
		bounds []int
		n      int
		last   int
	)
	for {
		line, rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *RowError
		switch {
		case errors.As(err, &rowErr):
			line = rowErr.Line
		case err != nil:
			return nil, 0, err
		}
		if line <= last {
			return nil, 0, fmt.Errorf("the source gave line %d after line %d: lines must grow", line, last)
		}
		if rowErr != nil {
			buf.refuse(k.main, line, rowErr.Key, rowErr.Field, rowErr.Reason, certdesk.EINVALID)
		} else if verr := rec.Validate(); verr != nil {
			field, reason := refusalOf(verr)
			buf.refuse(k.main, line, k.keyOf(rec), field, reason, certdesk.EINVALID)
		} else {
			k.stage(buf, line, rec.Canonical(), opts.seed, now)
		}
		last = line
		if n++; n%opts.BatchSize == 0 {
			bounds = append(bounds, line)
		}
		if buf.n >= min(stageChunk, opts.BatchSize) {
			if err := st.flush(ctx, buf, k.tables); err != nil {
				return nil, 0, err
			}
			if opts.Progress != nil {
				opts.Progress(ImportProgress{Phase: "staging", Rows: n})
			}
		}
	}
	if err := st.flush(ctx, buf, k.tables); err != nil {
		return nil, 0, err
	}
	if n%opts.BatchSize != 0 {
		bounds = append(bounds, last)
	}
	if opts.Progress != nil {
		opts.Progress(ImportProgress{Phase: "staging", Rows: n})
	}
	return bounds, n, nil
}

// mergeBatch merges one batch in its own transaction (a savepoint in a dry
// run). A batch that meets a row another writer inserted meanwhile (a
// unique conflict) is merged once more, seeing it.
func mergeBatch[T record[T]](s *Store, db *gorm.DB, k *recordKind[T], b batch) (counts, error) {
	var c counts
	for attempt := 0; ; attempt++ {
		err := translate(db.Transaction(func(tx *gorm.DB) error {
			var err error
			c, err = k.merge(s, tx, b)
			return err
		}))
		if err != nil && attempt == 0 && certdesk.ErrorCode(err) == certdesk.ECONFLICT {
			continue
		}
		return c, err
	}
}

// streamRefusals hands every refused row to fn, in line order.
func streamRefusals(db *gorm.DB, t stageTable, key string, fn func(Refusal) error) error {
	if fn == nil {
		return nil
	}
	rows, err := db.Raw("SELECT line, " + key + ", COALESCE(refusal_field, ''), refusal, COALESCE(case_id, '') FROM " + t.name +
		" WHERE refusal IS NOT NULL ORDER BY line").Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r Refusal
		if err := rows.Scan(&r.Line, &r.Key, &r.Field, &r.Reason, &r.CaseID); err != nil {
			return err
		}
		if r.Field != "" && !strings.HasPrefix(r.Reason, r.Field+": ") {
			r.Reason = r.Field + ": " + r.Reason
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// upsertOne stages one record and merges it, in one transaction.
func upsertOne[T record[T]](ctx context.Context, s *Store, k *recordKind[T], r T) (Outcome, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	r = r.Canonical()
	for attempt := 0; ; attempt++ {
		var (
			out     Outcome
			refused *certdesk.Error
		)
		err := s.tx(ctx, func(tx *gorm.DB) error {
			if err := s.createStage(tx, k.tables); err != nil {
				return err
			}
			if err := s.clearStage(tx, k.tables, false); err != nil {
				return err
			}
			buf := newStageBuffer()
			k.stage(buf, 1, r, nil, s.now())
			if err := (stager{s: s, db: tx}).flush(ctx, buf, k.tables); err != nil {
				return err
			}
			c, err := k.merge(s, tx, batch{lo: 1, hi: 1, now: s.now(), source: k.source})
			if err != nil {
				return err
			}
			switch {
			case c.Inserted == 1:
				out = OutcomeInserted
			case c.Updated == 1:
				out = OutcomeUpdated
			case c.Unchanged == 1:
				out = OutcomeUnchanged
			default:
				var f Refusal
				var code string
				q := "SELECT COALESCE(refusal_field, ''), refusal, refusal_code, COALESCE(case_id, '') FROM " + k.main.name + " WHERE line = 1"
				if err := tx.Raw(q).Row().Scan(&f.Field, &f.Reason, &code, &f.CaseID); err != nil {
					return err
				}
				refused = refusalError(k.what, k.keyOf(r), code, f)
			}
			return nil
		})
		switch {
		case err != nil && attempt == 0 && certdesk.ErrorCode(err) == certdesk.ECONFLICT:
			continue // another writer inserted the same key meanwhile: merge again, seeing it
		case err != nil:
			return "", err
		case refused != nil:
			return "", refused
		}
		return out, nil
	}
}

// refusalError is a refused single record as the caller's error.
func refusalError(what, key, code string, f Refusal) *certdesk.Error {
	if code == certdesk.EINVALID && f.Field != "" {
		return &certdesk.Error{Code: code, Message: f.Field + ": " + f.Reason, Fields: map[string]string{f.Field: f.Reason}}
	}
	return &certdesk.Error{Code: code, Message: fmt.Sprintf("%s %s %s", what, key, f.Reason)}
}
