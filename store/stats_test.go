package store_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// statCase is a case as the dashboard sees it: its kind, status and times.
type statCase struct {
	kind              certdesk.Kind
	status            certdesk.Status
	created           time.Time
	closed, sla       *time.Time
	escalated, review bool
}

// insertStatCases writes cases straight into the table: the figures read
// nothing else, and the times must be exactly these.
func insertStatCases(t *testing.T, s *store.Store, cases []statCase) {
	t.Helper()
	q := `INSERT INTO cases (id, kind, status, escalated, security_review, subject, requester, sla_due_at, workflow_id, details,
		created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, 'system', ?, ?, '{}', ?, ?, ?)`
	if s.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	for i, c := range cases {
		id := certdesk.NewID()
		if _, err := s.SQL().Exec(q, id, c.kind, c.status, c.escalated, c.review, fmt.Sprintf("case %d", i), c.sla, "wf-"+id,
			c.created, c.created, c.closed); err != nil {
			t.Fatalf("insert case %d: %v", i, err)
		}
	}
}

func TestStats(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ptr := func(v time.Time) *time.Time { return &v }
	c1 := at("2026-03-08 10:00")
	cases := []statCase{
		// Three connects closed after 1 h, 2 h and 4 h, with a 3 h SLA: two met, one breached.
		{kind: certdesk.KindConnect, status: certdesk.StatusCompleted, created: c1, closed: ptr(c1.Add(time.Hour)), sla: ptr(c1.Add(3 * time.Hour))},
		{kind: certdesk.KindConnect, status: certdesk.StatusCompleted, created: c1, closed: ptr(c1.Add(2 * time.Hour)), sla: ptr(c1.Add(3 * time.Hour))},
		{kind: certdesk.KindConnect, status: certdesk.StatusRejected, created: c1, closed: ptr(c1.Add(4 * time.Hour)), sla: ptr(c1.Add(3 * time.Hour))},
		// Two open connects today, one escalated and past its SLA.
		{kind: certdesk.KindConnect, status: certdesk.StatusOpen, created: at("2026-03-10 09:00"), sla: ptr(at("2026-03-10 10:00")), escalated: true},
		{kind: certdesk.KindConnect, status: certdesk.StatusAwaitingLearner, created: at("2026-03-10 09:30")},
		// A merge held for security review, escalated; another merge closed after a day.
		{kind: certdesk.KindMerge, status: certdesk.StatusAwaitingAgent, created: at("2026-03-09 08:00"), escalated: true, review: true},
		{kind: certdesk.KindMerge, status: certdesk.StatusRejected, created: at("2026-03-01 00:00"), closed: ptr(at("2026-03-02 00:00"))},
		// Before the window: an open recovery (counted as open), a closed connect (not counted).
		{kind: certdesk.KindRecovery, status: certdesk.StatusOpen, created: at("2026-01-01 00:00")},
		{kind: certdesk.KindConnect, status: certdesk.StatusCompleted, created: at("2026-01-01 00:00"), closed: ptr(at("2026-01-02 00:00"))},
		// Opened before the window, closed in it after 9.5 days.
		{kind: certdesk.KindRecovery, status: certdesk.StatusCompleted, created: at("2026-02-01 00:00"), closed: ptr(at("2026-02-10 12:00"))},
	}
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		s.Now = func() time.Time { return now }
		insertStatCases(t, s, cases)
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !st.Since.Equal(at("2026-02-09 00:00")) {
			t.Errorf("since = %v, want 2026-02-09", st.Since)
		}
		wantOpen := []store.OpenCount{
			{Kind: certdesk.KindConnect, Status: certdesk.StatusAwaitingLearner, N: 1},
			{Kind: certdesk.KindConnect, Status: certdesk.StatusOpen, N: 1, Escalated: 1},
			{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, N: 1, Escalated: 1},
			{Kind: certdesk.KindRecovery, Status: certdesk.StatusOpen, N: 1},
		}
		if !reflect.DeepEqual(st.Open, wantOpen) {
			t.Errorf("open = %+v\nwant %+v", st.Open, wantOpen)
		}

		if len(st.Days) != store.StatsDays*len(certdesk.Kinds) {
			t.Errorf("%d day rows, want %d", len(st.Days), store.StatsDays*len(certdesk.Kinds))
		}
		if st.Days[0].Day != "2026-02-09" || st.Days[len(st.Days)-1].Day != "2026-03-10" {
			t.Errorf("days run %s … %s, want 2026-02-09 … 2026-03-10", st.Days[0].Day, st.Days[len(st.Days)-1].Day)
		}
		busy := map[string][2]int64{}
		for _, d := range st.Days {
			if d.Opened != 0 || d.Closed != 0 {
				busy[d.Day+" "+string(d.Kind)] = [2]int64{d.Opened, d.Closed}
			}
		}
		wantBusy := map[string][2]int64{
			"2026-03-08 connect":  {3, 3},
			"2026-03-10 connect":  {2, 0},
			"2026-03-09 merge":    {1, 0},
			"2026-03-01 merge":    {1, 0},
			"2026-03-02 merge":    {0, 1},
			"2026-02-10 recovery": {0, 1},
		}
		if !reflect.DeepEqual(busy, wantBusy) {
			t.Errorf("days with cases (opened, closed) = %v\nwant %v", busy, wantBusy)
		}

		wantRes := []store.ResolutionTime{
			{Kind: certdesk.KindConnect, Closed: 3, P50: 7200, P90: 12960}, // 2 h + 0.8 × (4 h − 2 h)
			{Kind: certdesk.KindMerge, Closed: 1, P50: 86400, P90: 86400},
			{Kind: certdesk.KindRecovery, Closed: 1, P50: 820800, P90: 820800},
		}
		if len(st.Resolution) != len(wantRes) {
			t.Fatalf("resolution = %+v\nwant %+v", st.Resolution, wantRes)
		}
		for i, w := range wantRes {
			g := st.Resolution[i]
			if g.Kind != w.Kind || g.Closed != w.Closed || math.Abs(g.P50-w.P50) > 0.01 || math.Abs(g.P90-w.P90) > 0.01 {
				t.Errorf("resolution[%d] = %+v, want %+v", i, g, w)
			}
		}

		wantSLA := []store.SLACount{
			{Kind: certdesk.KindConnect, Met: 2, Breached: 1, Overdue: 1, Escalated: 1},
			{Kind: certdesk.KindMerge, Escalated: 1},
		}
		if !reflect.DeepEqual(st.SLA, wantSLA) {
			t.Errorf("sla = %+v\nwant %+v", st.SLA, wantSLA)
		}

		if st.Review.Total != 1 || len(st.Review.Cases) != 1 || st.Review.Cases[0].Kind != certdesk.KindMerge ||
			!st.Review.Cases[0].Escalated || !st.Review.Cases[0].CreatedAt.Equal(at("2026-03-09 08:00")) {
			t.Errorf("security review = %+v, want the one merge", st.Review)
		}
	})
}
