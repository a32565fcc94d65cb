package store

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk"
)

// Import files (docs/import.md): NDJSON, one record per line as the
// integration API takes it, or CSV with a header naming the columns, a
// profile's certifications and exams in one cell each. Either is read a
// line at a time.

// Formats of an import file.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// FormatOf names the format of a file by its extension (.ndjson, .jsonl,
// .csv).
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl":
		return FormatNDJSON, nil
	case ".csv":
		return FormatCSV, nil
	}
	return "", fmt.Errorf("%s: name the file .ndjson (or .jsonl) or .csv: its extension says its format", path)
}

// MaxRecordLine bounds an NDJSON line; a longer one is refused.
const MaxRecordLine = 1 << 20

// ProfileRecords reads certification profile records in a format; a CSV
// header that is not one of profiles is an error here.
func ProfileRecords(r io.Reader, format string) (RecordSource[certdesk.ProfileRecord], error) {
	return recordsIn(r, format, profileColumns, func(p *certdesk.ProfileRecord) string { return p.MCID })
}

// AccountRecords reads account records in a format.
func AccountRecords(r io.Reader, format string) (RecordSource[certdesk.AccountRecord], error) {
	return recordsIn(r, format, accountColumns, func(a *certdesk.AccountRecord) string { return a.Email })
}

func recordsIn[T any](r io.Reader, format string, columns []column[T], key func(*T) string) (RecordSource[T], error) {
	switch format {
	case FormatNDJSON:
		return &ndjsonSource[T]{r: bufio.NewReaderSize(r, 64<<10), key: key}, nil
	case FormatCSV:
		return newCSVSource(r, columns, key)
	}
	return nil, fmt.Errorf("no import format %q (ndjson or csv)", format)
}

type ndjsonSource[T any] struct {
	r    *bufio.Reader
	line int
	buf  []byte
	key  func(*T) string
}

func (s *ndjsonSource[T]) Next() (int, T, error) {
	var rec T
	for {
		b, tooLong, err := s.readLine()
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return 0, rec, io.EOF
			}
			return 0, rec, err
		}
		s.line++
		b = bytes.TrimSpace(b)
		switch {
		case len(b) == 0:
			continue // a blank line
		case tooLong:
			return s.line, rec, &RowError{Line: s.line, Reason: fmt.Sprintf("is longer than %d bytes", MaxRecordLine)}
		case !utf8.Valid(b):
			return s.line, rec, &RowError{Line: s.line, Reason: "is not valid UTF-8 text"}
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err = dec.Decode(&rec)
		if err == nil && dec.More() {
			err = errors.New("more than one JSON value on the line")
		}
		if err != nil {
			return s.line, rec, &RowError{Line: s.line, Key: s.key(&rec), Reason: "is not a record: " + strings.TrimPrefix(err.Error(), "json: ")}
		}
		return s.line, rec, nil
	}
}

// readLine reads up to a newline, keeping at most MaxRecordLine bytes.
func (s *ndjsonSource[T]) readLine() ([]byte, bool, error) {
	s.buf = s.buf[:0]
	tooLong := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.buf)+len(chunk) <= MaxRecordLine {
			s.buf = append(s.buf, chunk...)
		} else {
			tooLong = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong && len(s.buf) == 0 {
			s.buf = append(s.buf, ' ') // the line was there, if all too long
		}
		return s.buf, tooLong, err
	}
}

// column is a CSV column of a record: its name and how it reads a cell.
type column[T any] struct {
	name string
	set  func(rec *T, cell string) error
}

type csvSource[T any] struct {
	r    *csv.Reader
	cols []column[T]
	key  func(*T) string
}

func newCSVSource[T any](r io.Reader, columns []column[T], key func(*T) string) (*csvSource[T], error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("the CSV file has no header line: %w", err)
	}
	s := &csvSource[T]{r: cr, key: key}
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		j := slices.Index(names, h)
		if j < 0 || slices.ContainsFunc(s.cols, func(c column[T]) bool { return c.name == h }) {
			return nil, fmt.Errorf("the CSV header's column %d, %q, is not a column of this record or comes twice (columns: %s)", i+1, h, strings.Join(names, ", "))
		}
		s.cols = append(s.cols, columns[j])
	}
	return s, nil
}

func (s *csvSource[T]) Next() (int, T, error) {
	var rec T
	cells, err := s.r.Read()
	line, _ := s.r.FieldPos(0)
	var perr *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return 0, rec, io.EOF
	case errors.As(err, &perr):
		return perr.StartLine, rec, &RowError{Line: perr.StartLine, Reason: "is not a CSV row: " + perr.Err.Error()}
	case err != nil:
		return 0, rec, err
	}
	for i, cell := range cells {
		col := s.cols[i]
		if !utf8.ValidString(cell) {
			return line, rec, &RowError{Line: line, Key: s.key(&rec), Field: col.name, Reason: col.name + ": is not valid UTF-8 text"}
		}
		if err := col.set(&rec, cell); err != nil {
			return line, rec, &RowError{Line: line, Key: s.key(&rec), Field: col.name, Reason: col.name + ": " + err.Error()}
		}
	}
	return line, rec, nil
}

var profileColumns = []column[certdesk.ProfileRecord]{
	{"mcid", func(r *certdesk.ProfileRecord, c string) error { r.MCID = c; return nil }},
	{"legal_name", func(r *certdesk.ProfileRecord, c string) error { r.LegalName = c; return nil }},
	{"email", func(r *certdesk.ProfileRecord, c string) error { r.Email = c; return nil }},
	{"owner_email", func(r *certdesk.ProfileRecord, c string) error { r.OwnerEmail = c; return nil }},
	{"status", func(r *certdesk.ProfileRecord, c string) error { r.Status = c; return nil }},
	{"merged_into", func(r *certdesk.ProfileRecord, c string) error { r.MergedInto = c; return nil }},
	{"created_at", func(r *certdesk.ProfileRecord, c string) (err error) { r.CreatedAt, err = cellTime(c); return err }},
	{"certifications", func(r *certdesk.ProfileRecord, c string) (err error) {
		r.Certifications, err = cellCertifications(c)
		return err
	}},
	{"exams", func(r *certdesk.ProfileRecord, c string) (err error) { r.Exams, err = cellExams(c); return err }},
}

var accountColumns = []column[certdesk.AccountRecord]{
	{"email", func(r *certdesk.AccountRecord, c string) error { r.Email = c; return nil }},
	{"kind", func(r *certdesk.AccountRecord, c string) error { r.Kind = c; return nil }},
	{"display_name", func(r *certdesk.AccountRecord, c string) error { r.DisplayName = c; return nil }},
	{"last_sign_in_at", func(r *certdesk.AccountRecord, c string) (err error) { r.LastSignInAt, err = cellTime(c); return err }},
	{"created_at", func(r *certdesk.AccountRecord, c string) (err error) { r.CreatedAt, err = cellTime(c); return err }},
}

// cellTime reads an RFC 3339 time; "" is none.
func cellTime(c string) (*time.Time, error) {
	if c = strings.TrimSpace(c); c == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, c)
	if err != nil {
		return nil, fmt.Errorf("%q is not an RFC 3339 time such as 2024-05-01T09:00:00Z", c)
	}
	return &t, nil
}

// cellItems splits a cell of items ("a|b|c;d|e|f") into their parts, with
// between min and max parts each.
func cellItems(c string, minParts, maxParts int, shape string) ([][]string, error) {
	var out [][]string
	for i, item := range strings.Split(c, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		parts := strings.Split(item, "|")
		if len(parts) < minParts || len(parts) > maxParts {
			return nil, fmt.Errorf("item %d is not %s", i+1, shape)
		}
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		out = append(out, parts)
	}
	return out, nil
}

// cellCertifications reads "code|title|earned_at[|expires_at];…".
func cellCertifications(c string) ([]certdesk.CertificationRecord, error) {
	items, err := cellItems(c, 3, 4, "code|title|earned_at[|expires_at]")
	if err != nil {
		return nil, err
	}
	out := make([]certdesk.CertificationRecord, 0, len(items))
	for i, p := range items {
		cr := certdesk.CertificationRecord{Code: p[0], Title: p[1]}
		earned, err := cellTime(p[2])
		if err != nil || earned == nil {
			return nil, fmt.Errorf("item %d: earned_at %q is not an RFC 3339 time", i+1, p[2])
		}
		cr.EarnedAt = *earned
		if len(p) == 4 {
			if cr.ExpiresAt, err = cellTime(p[3]); err != nil {
				return nil, fmt.Errorf("item %d: expires_at %q is not an RFC 3339 time", i+1, p[3])
			}
		}
		out = append(out, cr)
	}
	return out, nil
}

// cellExams reads "code|title|taken_at[|score[|passed]];…".
func cellExams(c string) ([]certdesk.ExamRecord, error) {
	items, err := cellItems(c, 3, 5, "code|title|taken_at[|score[|passed]]")
	if err != nil {
		return nil, err
	}
	out := make([]certdesk.ExamRecord, 0, len(items))
	for i, p := range items {
		e := certdesk.ExamRecord{Code: p[0], Title: p[1]}
		taken, err := cellTime(p[2])
		if err != nil || taken == nil {
			return nil, fmt.Errorf("item %d: taken_at %q is not an RFC 3339 time", i+1, p[2])
		}
		e.TakenAt = *taken
		if len(p) >= 4 && p[3] != "" {
			n, err := strconv.Atoi(p[3])
			if err != nil {
				return nil, fmt.Errorf("item %d: score %q is not a number", i+1, p[3])
			}
			e.Score = &n
		}
		if len(p) == 5 && p[4] != "" {
			b, err := strconv.ParseBool(p[4])
			if err != nil {
				return nil, fmt.Errorf("item %d: passed %q is not true or false", i+1, p[4])
			}
			e.Passed = &b
		}
		out = append(out, e)
	}
	return out, nil
}
