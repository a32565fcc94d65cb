package store_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

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

		// Open at the end of each day, counted straight from the cases.
		if len(st.OpenByDay) != len(st.Days) {
			t.Fatalf("%d open-by-day rows, want %d", len(st.OpenByDay), len(st.Days))
		}
		for _, o := range st.OpenByDay {
			day, _ := time.Parse(time.DateOnly, o.Day)
			end := day.AddDate(0, 0, 1)
			var want int64
			for _, c := range cases {
				if c.kind == o.Kind && c.created.Before(end) && (c.closed == nil || !c.closed.Before(end)) {
					want++
				}
			}
			if o.N != want {
				t.Errorf("open %s at the end of %s = %d, want %d", o.Kind, o.Day, o.N, want)
			}
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

// The million cases of BenchmarkStatsMillion: a year of cases, one in twenty
// open (of every kind), two in three with an SLA, one in seventeen escalated, one in five
// thousand held for security review. Set-based, so the load takes seconds.
const (
	millionCasesPostgres = `INSERT INTO cases (id, kind, status, escalated, security_review, subject, requester, sla_due_at,
		workflow_id, details, created_at, updated_at, closed_at)
	SELECT 'bench' || lpad(g::text, 8, '0'), k.kind, k.status, g % 17 = 0, g % 5000 = 0, 'bench', 'system',
		CASE WHEN g % 3 <> 0 THEN k.created + interval '2 days' END, 'wf-bench' || g, '{}', k.created, k.created,
		CASE WHEN (g / 5) % 20 <> 0 THEN k.created + make_interval(secs => 600 + (g::bigint * 7919) % 604800) END
	FROM generate_series(1, 1000000) AS g,
	LATERAL (SELECT (ARRAY['connect','merge','recovery','unmerge','inquiry'])[1 + g % 5] AS kind,
		CASE WHEN (g / 5) % 20 = 0 THEN (ARRAY['open','awaiting_learner','awaiting_agent','cooling_off'])[1 + g % 4]
			ELSE (ARRAY['completed','rejected','cancelled','expired'])[1 + (g / 7) % 4] END AS status,
		$1::timestamptz - make_interval(days => g % 365, secs => (g * 37) % 86400) AS created) AS k`
	millionCasesSQLite = `WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 1000000),
	k AS (SELECT g, (g * 7919) % 604800 AS took,
		julianday(?) - (g % 365) - ((g * 37) % 86400) / 86400.0 AS created FROM n)
	INSERT INTO cases (id, kind, status, escalated, security_review, subject, requester, sla_due_at,
		workflow_id, details, created_at, updated_at, closed_at)
	SELECT 'bench' || printf('%08d', g), CASE g % 5 WHEN 0 THEN 'connect' WHEN 1 THEN 'merge' WHEN 2 THEN 'recovery' WHEN 3 THEN 'unmerge' ELSE 'inquiry' END,
		CASE WHEN (g / 5) % 20 = 0 THEN CASE g % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'awaiting_learner' WHEN 2 THEN 'awaiting_agent' ELSE 'cooling_off' END
			ELSE CASE (g / 7) % 4 WHEN 0 THEN 'completed' WHEN 1 THEN 'rejected' WHEN 2 THEN 'cancelled' ELSE 'expired' END END,
		g % 17 = 0, g % 5000 = 0, 'bench', 'system',
		CASE WHEN g % 3 <> 0 THEN strftime('%Y-%m-%d %H:%M:%S+00:00', created + 2) END, 'wf-bench' || g, '{}',
		strftime('%Y-%m-%d %H:%M:%S+00:00', created), strftime('%Y-%m-%d %H:%M:%S+00:00', created),
		CASE WHEN (g / 5) % 20 <> 0 THEN strftime('%Y-%m-%d %H:%M:%S+00:00', created + (600 + took) / 86400.0) END
	FROM k`
)

// BenchmarkStatsMillion times the dashboard's figures over a million cases,
// each query on its own (from the store's statement spans):
//
//	go test ./store/ -run '^$' -bench StatsMillion -benchtime 5x
func BenchmarkStatsMillion(b *testing.B) {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	b.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, dialect := range storetest.Dialects {
		// Loaded once, on the first run of the sub-benchmark (a -bench
		// filter may skip a dialect), and kept by the outer benchmark: each
		// run of a sub-benchmark ends with its cleanups.
		var s *store.Store
		outer := b
		b.Run(dialect, func(b *testing.B) {
			if s == nil {
				s = loadMillion(outer, dialect, now)
			}
			// The first three queries and the last five are one figure each;
			// what is between is the time to resolution (one query on
			// PostgreSQL, a count and two per kind on SQLite).
			head := []string{"open", "opened/day", "closed/day"}
			tail := []string{"sla", "overdue", "escalated", "review-count", "review-list"}
			total := map[string]time.Duration{}
			tracer := otel.Tracer("bench")
			b.ResetTimer()
			for range b.N {
				ctx, root := tracer.Start(context.Background(), "stats")
				n := len(rec.Ended())
				if _, err := s.Stats(ctx); err != nil {
					b.Fatal(err)
				}
				root.End()
				spans := rec.Ended()[n:]
				spans = spans[:len(spans)-1] // the root
				for i, sp := range spans {
					label := "resolution"
					switch {
					case i < len(head):
						label = head[i]
					case i >= len(spans)-len(tail):
						label = tail[i-(len(spans)-len(tail))]
					}
					total[label] += sp.EndTime().Sub(sp.StartTime())
				}
			}
			b.StopTimer()
			for _, l := range append(append(head, "resolution"), tail...) {
				ms := float64(total[l]) / float64(b.N) / float64(time.Millisecond)
				b.ReportMetric(ms, "ms/"+l)
			}
		})
	}
}

// loadMillion returns a store of the dialect holding the million cases.
func loadMillion(b *testing.B, dialect string, now time.Time) *store.Store {
	s := storetest.Open(b, dialect)
	s.Now = func() time.Time { return now }
	q, arg := millionCasesPostgres, any(now)
	if dialect == "sqlite" {
		q, arg = millionCasesSQLite, now.Format("2006-01-02 15:04:05")
	}
	start := time.Now()
	if _, err := s.SQL().Exec(q, arg); err != nil {
		b.Fatalf("load a million cases: %v", err)
	}
	vacuum := "VACUUM ANALYZE cases"
	if dialect == "sqlite" {
		vacuum = "ANALYZE"
	}
	if _, err := s.SQL().Exec(vacuum); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: a million cases loaded in %v", dialect, time.Since(start).Round(time.Millisecond))
	return s
}

// Each daily sweep counts the open cases by kind and status; the dashboard
// shows the window's counts and today's as they are now. Counting the same
// day again replaces it.
func TestOpenCountsByStatusOverTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		s.Now = func() time.Time { return day(10) }
		insertStatCases(t, s, []statCase{
			{kind: certdesk.KindConnect, status: certdesk.StatusAwaitingLearner, created: day(1)},
			{kind: certdesk.KindMerge, status: certdesk.StatusAwaitingAgent, created: day(1)},
			{kind: certdesk.KindMerge, status: certdesk.StatusCompleted, created: day(1), closed: ptrTime(day(2))},
		})
		for _, d := range []int{8, 9, 9} {
			if err := s.RecordOpenCounts(ctx, day(d)); err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, o := range st.OpenByStatus {
			got[o.Day+" "+string(o.Kind)+" "+string(o.Status)] += o.N
		}
		want := map[string]int64{}
		for _, d := range []string{"2026-03-08", "2026-03-09", "2026-03-10"} {
			want[d+" connect awaiting_learner"], want[d+" merge awaiting_agent"] = 1, 1
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("open by status = %v\nwant %v", got, want)
		}
	})
}

func ptrTime(v time.Time) *time.Time { return &v }
