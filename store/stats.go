package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// StatsDays is how many days, today included, the dashboard's window holds.
const StatsDays = 30

// ReviewQueueLimit is how many cases of the security-review queue Stats lists
// (the count is of all of them).
const ReviewQueueLimit = 50

// Stats are the supervisor dashboard's figures. Every figure is an aggregate
// the database computes over the cases table (see 0015_stats.sql for the
// indexes that keep each one a range scan at a million cases).
type Stats struct {
	Now   time.Time `json:"now"`
	Since time.Time `json:"since"` // the first day of the window, 00:00 UTC
	// Open are the cases not yet ended, by kind and status.
	Open []OpenCount `json:"open"`
	// Days are, for each day of the window (oldest first) and each kind,
	// the cases opened and closed that day.
	Days []DayCount `json:"days"`
	// OpenByDay are, for each day of the window and each kind, the cases
	// open at the end of that day (UTC; today: now).
	OpenByDay []OpenAtDay `json:"open_by_day"`
	// OpenByStatus are the open cases by kind and status as each daily
	// sweep of the window counted them (RecordOpenCounts), and today's now:
	// days the sweep did not run are missing.
	OpenByStatus []OpenStatusAtDay `json:"open_by_status"`
	// Resolution is the time from opening to closing of the cases closed in
	// the window, by kind.
	Resolution []ResolutionTime `json:"resolution"`
	// SLA is, by kind, how the cases closed in the window kept their SLA,
	// the open cases past it, and the escalations of the window.
	SLA []SLACount `json:"sla"`
	// Review is the security-review queue: its size and its oldest cases.
	Review ReviewQueue `json:"security_review"`
}

// OpenCount is a number of open cases of one kind and status.
type OpenCount struct {
	Kind      certdesk.Kind   `json:"kind"`
	Status    certdesk.Status `json:"status"`
	N         int64           `json:"count"`
	Escalated int64           `json:"escalated"`
}

// DayCount is what happened to cases of one kind on one day (UTC).
type DayCount struct {
	Day    string        `json:"day"` // 2006-01-02
	Kind   certdesk.Kind `json:"kind"`
	Opened int64         `json:"opened"`
	Closed int64         `json:"closed"`
}

// OpenAtDay is how many cases of a kind were open at the end of a day.
type OpenAtDay struct {
	Day  string        `json:"day"` // 2006-01-02
	Kind certdesk.Kind `json:"kind"`
	N    int64         `json:"count"`
}

// OpenStatusAtDay is how many cases of a kind were open with a status on
// a day.
type OpenStatusAtDay struct {
	Day    string          `json:"day"` // 2006-01-02
	Kind   certdesk.Kind   `json:"kind"`
	Status certdesk.Status `json:"status"`
	N      int64           `json:"count"`
}

// RecordOpenCounts counts the open cases by kind and status as of a day
// (the daily sweep): run again the same day, it replaces that day's.
func (s *Store) RecordOpenCounts(ctx context.Context, asOf time.Time) error {
	day := asOf.UTC().Format(time.DateOnly)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM open_case_counts WHERE day = ?`, day).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO open_case_counts (day, kind, status, n)
			SELECT ?, kind, status, COUNT(*) FROM cases WHERE status IN ? GROUP BY kind, status`, day, openStatuses()).Error
	})
	if err != nil {
		return fmt.Errorf("store: record open counts: %w", translate(err))
	}
	return nil
}

// statsOpenByStatus reads the window's daily counts; today's are the
// cases open now.
func (s *Store) statsOpenByStatus(db *gorm.DB, st *Stats, _ []certdesk.Status) error {
	today := st.Now.UTC().Format(time.DateOnly)
	if err := db.Raw(`SELECT day, kind, status, n FROM open_case_counts WHERE day >= ? AND day < ? ORDER BY day, kind, status`,
		st.Since.Format(time.DateOnly), today).Scan(&st.OpenByStatus).Error; err != nil {
		return err
	}
	for _, o := range st.Open {
		st.OpenByStatus = append(st.OpenByStatus, OpenStatusAtDay{Day: today, Kind: o.Kind, Status: o.Status, N: o.N})
	}
	return nil
}

// openByDay walks back from the cases open now: at the end of a day, a
// kind had what it has now, less what was opened after that day, plus what
// was closed after it — exact, from the two figures already read.
func openByDay(st *Stats) {
	now := map[certdesk.Kind]int64{}
	for _, o := range st.Open {
		now[o.Kind] += o.N
	}
	st.OpenByDay = make([]OpenAtDay, len(st.Days))
	after := map[certdesk.Kind]int64{} // opened − closed after the day
	for i := len(st.Days) - 1; i >= 0; i-- {
		d := st.Days[i]
		st.OpenByDay[i] = OpenAtDay{Day: d.Day, Kind: d.Kind, N: now[d.Kind] - after[d.Kind]}
		after[d.Kind] += d.Opened - d.Closed
	}
}

// ResolutionTime is the median and 90th percentile, in seconds, of the time
// to resolution of the cases of a kind closed in the window (PostgreSQL's
// percentile_cont: interpolated between the two nearest cases).
type ResolutionTime struct {
	Kind   certdesk.Kind `json:"kind"`
	Closed int64         `json:"closed"`
	P50    float64       `json:"p50_seconds"`
	P90    float64       `json:"p90_seconds"`
}

// SLACount is one kind's SLA attainment: of the cases closed in the window
// with an SLA, those closed by it (Met) and after it (Breached); the open
// cases past it now (Overdue); the cases opened in the window that were
// escalated.
type SLACount struct {
	Kind      certdesk.Kind `json:"kind"`
	Met       int64         `json:"met"`
	Breached  int64         `json:"breached"`
	Overdue   int64         `json:"overdue"`
	Escalated int64         `json:"escalated"`
}

// ReviewQueue is the open cases held for security review.
type ReviewQueue struct {
	Total int64        `json:"total"`
	Cases []ReviewCase `json:"cases"` // the oldest first, at most ReviewQueueLimit
}

// ReviewCase is a case of the security-review queue.
type ReviewCase struct {
	ID        string          `json:"id"`
	Kind      certdesk.Kind   `json:"kind"`
	Status    certdesk.Status `json:"status"`
	Subject   string          `json:"subject"`
	Escalated bool            `json:"escalated"`
	CreatedAt time.Time       `json:"created_at"`
	SLADueAt  *time.Time      `json:"sla_due_at"`
}

// Stats computes the dashboard's figures at the store's clock.
func (s *Store) Stats(ctx context.Context) (st Stats, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: stats: %w", translate(err))
		}
	}()
	now := s.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	st = Stats{Now: now, Since: today.AddDate(0, 0, 1-StatsDays)}
	db := s.db.WithContext(ctx)
	open := openStatuses()
	for _, step := range []func(*gorm.DB, *Stats, []certdesk.Status) error{
		s.statsOpen, s.statsOpenByStatus, s.statsDays, s.statsResolution, s.statsSLA, s.statsReview,
	} {
		if err = step(db, &st, open); err != nil {
			return st, err
		}
	}
	openByDay(&st)
	return st, nil
}

func openStatuses() []certdesk.Status {
	var open []certdesk.Status
	for _, st := range certdesk.Statuses {
		if !st.Terminal() {
			open = append(open, st)
		}
	}
	return open
}

// Ordinals, not aliases, in GROUP BY: both PostgreSQL and SQLite take them.

func (s *Store) statsOpen(db *gorm.DB, st *Stats, open []certdesk.Status) error {
	st.Open = []OpenCount{}
	return db.Raw(`SELECT kind, status, COUNT(*) AS n, SUM(CASE WHEN escalated THEN 1 ELSE 0 END) AS escalated
		FROM cases WHERE status IN ? GROUP BY 1, 2 ORDER BY 1, 2`, open).Scan(&st.Open).Error
}

// day is the SQL of a timestamp's day (UTC) as 2006-01-02.
func (s *Store) day(col string) string {
	if s.dialect == "postgres" {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "date(" + col + ")"
}

// statsDays fills every day of the window for every kind, zeros included,
// from two GROUP BYs (opened by created_at, closed by closed_at).
func (s *Store) statsDays(db *gorm.DB, st *Stats, _ []certdesk.Status) error {
	type row struct {
		Day  string
		Kind certdesk.Kind
		N    int64
	}
	var opened, closed []row
	if err := db.Raw(`SELECT `+s.day("created_at")+` AS day, kind, COUNT(*) AS n FROM cases WHERE created_at >= ? GROUP BY 1, 2`,
		st.Since).Scan(&opened).Error; err != nil {
		return err
	}
	if err := db.Raw(`SELECT `+s.day("closed_at")+` AS day, kind, COUNT(*) AS n FROM cases WHERE closed_at >= ? GROUP BY 1, 2`,
		st.Since).Scan(&closed).Error; err != nil {
		return err
	}
	type key struct {
		day  string
		kind certdesk.Kind
	}
	at := map[key]int{}
	for d := range StatsDays {
		day := st.Since.AddDate(0, 0, d).Format(time.DateOnly)
		for _, k := range certdesk.Kinds {
			at[key{day, k}] = len(st.Days)
			st.Days = append(st.Days, DayCount{Day: day, Kind: k})
		}
	}
	for _, r := range opened {
		if i, ok := at[key{r.Day, r.Kind}]; ok {
			st.Days[i].Opened = r.N
		}
	}
	for _, r := range closed {
		if i, ok := at[key{r.Day, r.Kind}]; ok {
			st.Days[i].Closed = r.N
		}
	}
	return nil
}

var percentiles = []float64{0.5, 0.9}

// statsResolution: PostgreSQL has percentile_cont; SQLite has no
// percentile, so there each kind's two cases around the percentile are
// read with ORDER BY … LIMIT 2 OFFSET, and interpolated as percentile_cont
// does.
func (s *Store) statsResolution(db *gorm.DB, st *Stats, _ []certdesk.Status) error {
	st.Resolution = []ResolutionTime{}
	if s.dialect == "postgres" {
		return db.Raw(`SELECT kind, COUNT(*) AS closed,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM closed_at - created_at)) AS p50,
			percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM closed_at - created_at)) AS p90
			FROM cases WHERE closed_at >= ? GROUP BY 1 ORDER BY 1`, st.Since).Scan(&st.Resolution).Error
	}
	if err := db.Raw(`SELECT kind, COUNT(*) AS closed FROM cases WHERE closed_at >= ? GROUP BY 1 ORDER BY 1`,
		st.Since).Scan(&st.Resolution).Error; err != nil {
		return err
	}
	const seconds = `ROUND((julianday(closed_at) - julianday(created_at)) * 86400.0, 3)`
	for i := range st.Resolution {
		r := &st.Resolution[i]
		for j, p := range percentiles {
			pos := p * float64(r.Closed-1)
			lo := math.Floor(pos)
			var vs []float64
			if err := db.Raw(`SELECT `+seconds+` AS d FROM cases WHERE closed_at >= ? AND kind = ? ORDER BY 1 LIMIT 2 OFFSET ?`,
				st.Since, r.Kind, int64(lo)).Scan(&vs).Error; err != nil {
				return err
			}
			v := vs[0]
			if len(vs) == 2 {
				v += (pos - lo) * (vs[1] - vs[0])
			}
			if j == 0 {
				r.P50 = v
			} else {
				r.P90 = v
			}
		}
	}
	return nil
}

func (s *Store) statsSLA(db *gorm.DB, st *Stats, open []certdesk.Status) error {
	type row struct {
		Kind                        certdesk.Kind
		Met, Breached, Overdue, Esc int64
	}
	var closed, overdue, esc []row
	if err := db.Raw(`SELECT kind, SUM(CASE WHEN closed_at <= sla_due_at THEN 1 ELSE 0 END) AS met,
		SUM(CASE WHEN closed_at > sla_due_at THEN 1 ELSE 0 END) AS breached
		FROM cases WHERE closed_at >= ? AND sla_due_at IS NOT NULL GROUP BY 1`, st.Since).Scan(&closed).Error; err != nil {
		return err
	}
	if err := db.Raw(`SELECT kind, COUNT(*) AS overdue FROM cases WHERE status IN ? AND sla_due_at < ? GROUP BY 1`,
		open, st.Now).Scan(&overdue).Error; err != nil {
		return err
	}
	if err := db.Raw(`SELECT kind, COUNT(*) AS esc FROM cases WHERE created_at >= ? AND escalated GROUP BY 1`,
		st.Since).Scan(&esc).Error; err != nil {
		return err
	}
	by := map[certdesk.Kind]*SLACount{}
	get := func(k certdesk.Kind) *SLACount {
		if by[k] == nil {
			by[k] = &SLACount{Kind: k}
		}
		return by[k]
	}
	for _, r := range closed {
		get(r.Kind).Met, get(r.Kind).Breached = r.Met, r.Breached
	}
	for _, r := range overdue {
		get(r.Kind).Overdue = r.Overdue
	}
	for _, r := range esc {
		get(r.Kind).Escalated = r.Esc
	}
	st.SLA = []SLACount{}
	for _, k := range certdesk.Kinds {
		if c := by[k]; c != nil {
			st.SLA = append(st.SLA, *c)
		}
	}
	return nil
}

// statsReview reads the queue through the partial index on security_review,
// a few rows among a million. SQLite's planner prefers the index on status
// (tens of thousands of open cases), so there it is named.
func (s *Store) statsReview(db *gorm.DB, st *Stats, open []certdesk.Status) error {
	from := "cases"
	if s.dialect == "sqlite" {
		from = "cases INDEXED BY cases_security_review"
	}
	if err := db.Raw(`SELECT COUNT(*) FROM `+from+` WHERE security_review AND status IN ?`, open).
		Scan(&st.Review.Total).Error; err != nil {
		return err
	}
	st.Review.Cases = []ReviewCase{}
	return db.Raw(`SELECT id, kind, status, subject, escalated, created_at, sla_due_at FROM `+from+`
		WHERE security_review AND status IN ? ORDER BY created_at, id LIMIT ?`, open, ReviewQueueLimit).
		Scan(&st.Review.Cases).Error
}
