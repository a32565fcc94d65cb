package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// Order of a case list.
const (
	OrderNewest = "newest" // id descending: ids grow with time
	OrderSLA    = "sla"    // soonest SLA due first; cases without one last
)

// CaseFilter selects and orders a page of cases.
type CaseFilter struct {
	Kind     certdesk.Kind
	Statuses []certdesk.Status
	// Assignee: an agent id, "none" for unassigned, "" for anyone.
	Assignee  string
	Escalated *bool
	// SecurityReview selects cases flagged (or not) for security review.
	SecurityReview *bool
	// Q searches learner name and email, MCID, case id and reference.
	Q      string
	Order  string
	Limit  int
	Cursor string
	// Learner restricts the list to one learner's cases (a learner's view).
	Learner *LearnerScope
}

// LearnerScope is whose cases a learner sees: those about their accounts or
// their learning profile.
type LearnerScope struct {
	AccountIDs        []string
	LearningProfileID string
}

// Page is a page of cases; NextCursor is empty on the last page.
type Page struct {
	Items      []certdesk.Case
	NextCursor string
}

// MaxPageSize bounds Limit.
const MaxPageSize = 200

// ListCases returns a page of cases with keyset pagination: the cursor is
// the position of the last row, so every page costs the same however deep
// it is, and no COUNT runs.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, MaxPageSize)
	q, err := s.listQuery(s.db.WithContext(ctx), f)
	if err != nil {
		return Page{}, err
	}
	rows, err := scanCases(q.Select(caseColumns))
	if err != nil {
		return Page{}, fmt.Errorf("store: list cases: %w", translate(err))
	}
	page := Page{Items: rows}
	if len(rows) > f.Limit {
		page.Items = rows[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = cursorOf(f.Order, last)
	}
	return page, nil
}

// listQuery builds the query of a page: the filters, the keyset
// condition and order, and one row more than the page (whether there is a
// next page, without counting).
func (s *Store) listQuery(db *gorm.DB, f CaseFilter) (*gorm.DB, error) {
	q := db.Model(&caseRow{})
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if len(f.Statuses) == 1 {
		q = q.Where("status = ?", f.Statuses[0])
	} else if len(f.Statuses) > 1 {
		q = q.Where("status IN ?", f.Statuses)
	}
	switch f.Assignee {
	case "":
	case "none":
		q = q.Where("assignee_id IS NULL")
	default:
		q = q.Where("assignee_id = ?", f.Assignee)
	}
	if f.Escalated != nil {
		q = q.Where("escalated = ?", *f.Escalated)
	}
	if f.SecurityReview != nil {
		q = q.Where("security_review = ?", *f.SecurityReview)
	}
	if t := strings.ToLower(strings.TrimSpace(f.Q)); t != "" {
		q = s.search(q, t)
	}
	if f.Learner != nil {
		scope := s.db.Where("account_id IN ?", append([]string{""}, f.Learner.AccountIDs...))
		if f.Learner.LearningProfileID != "" {
			scope = scope.Or("learning_profile_id = ?", f.Learner.LearningProfileID)
		}
		q = q.Where(scope)
	}
	var err error
	switch f.Order {
	case "", OrderNewest:
		q, err = keysetNewest(q, f.Cursor)
	case OrderSLA:
		q, err = keysetSLA(q, f.Cursor)
	default:
		return nil, certdesk.Invalid(map[string]string{"order": "must be newest or sla"})
	}
	if err != nil {
		return nil, err
	}
	return q.Limit(f.Limit + 1), nil
}

// caseColumns are a case's columns in the order scanCases reads them.
const caseColumns = "id, kind, status, resolution, escalated, unreachable, security_review, subject, learner_name, learner_email, " +
	"learning_profile_id, account_id, profile_ids, mcids, requester, assignee_id, parent_case_id, sla_due_at, workflow_id, run_id, " +
	"version, workflow_step, details, created_at, updated_at, closed_at"

// scanCases reads the rows of a query selecting caseColumns, field by
// field: the list is the hottest read, and GORM's reflective scan of a
// page cost more than the query itself.
func scanCases(q *gorm.DB) ([]certdesk.Case, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []certdesk.Case
	for rows.Next() {
		var (
			c       caseRow
			details []byte
		)
		if err := rows.Scan(&c.ID, &c.Kind, &c.Status, &c.Resolution, &c.Escalated, &c.Unreachable, &c.SecurityReview,
			&c.Subject, &c.LearnerName, &c.LearnerEmail, &c.LearningProfileID, &c.AccountID, &c.ProfileIDs, &c.MCIDs,
			&c.Requester, &c.AssigneeID, &c.ParentCaseID, &c.SLADueAt, &c.WorkflowID, &c.RunID,
			&c.Version, &c.WorkflowStep, &details, &c.CreatedAt, &c.UpdatedAt, &c.ClosedAt); err != nil {
			return nil, err
		}
		c.Details = details
		out = append(out, c.domain())
	}
	return out, rows.Err()
}

// search matches a case id exactly, or a learner's name, email or an MCID
// by substring. On PostgreSQL the expression is the one the trigram index
// covers (migration 0004).
func (s *Store) search(q *gorm.DB, t string) *gorm.DB {
	like := "%" + escapeLike(t) + "%"
	return q.Where("(id = ? OR reference = ? OR lower(learner_name || ' ' || learner_email || ' ' || mcids) LIKE ? ESCAPE '\\')",
		t, strings.ToUpper(t), like)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func keysetNewest(q *gorm.DB, cursor string) (*gorm.DB, error) {
	if cursor != "" {
		id, err := decodeCursor(cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("id < ?", id)
	}
	return q.Order("id DESC"), nil
}

// keysetSLA orders by (SLA due, id); cases without an SLA come after all
// others, ordered by id. The cursor carries both parts.
func keysetSLA(q *gorm.DB, cursor string) (*gorm.DB, error) {
	if cursor != "" {
		raw, err := decodeCursor(cursor)
		if err != nil {
			return nil, err
		}
		due, id, _ := strings.Cut(raw, "|")
		if due == "" {
			q = q.Where("sla_due_at IS NULL AND id > ?", id)
		} else {
			t, err := time.Parse(time.RFC3339Nano, due)
			if err != nil {
				return nil, badCursor()
			}
			q = q.Where("(sla_due_at > ? OR (sla_due_at = ? AND id > ?) OR sla_due_at IS NULL)", t, t, id)
		}
	}
	return q.Order("CASE WHEN sla_due_at IS NULL THEN 1 ELSE 0 END, sla_due_at, id"), nil
}

func cursorOf(order string, c certdesk.Case) string {
	raw := c.ID
	if order == OrderSLA {
		due := ""
		if c.SLADueAt != nil {
			due = c.SLADueAt.UTC().Format(time.RFC3339Nano)
		}
		raw = due + "|" + c.ID
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	// What cursorOf writes is printable ASCII (ids, times, "|").
	if err != nil || len(b) > 100 || strings.ContainsFunc(string(b), func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", badCursor()
	}
	return string(b), nil
}

func badCursor() error {
	return certdesk.Invalid(map[string]string{"cursor": "is not a cursor this list returned"})
}
