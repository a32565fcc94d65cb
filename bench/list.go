package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// listPage is the page size of the measured requests (the API's default).
const listPage = 50

// runList: GET /api/v1/cases with a million cases in PostgreSQL, at a fixed
// request rate: the first page, a page a million rows deep (its keyset
// cursor), the same deep query run directly on the database, and the
// console's queue page, first and deep. It also reads PostgreSQL's
// statistics of the cases table around the requests: rows read per request
// and sequential scans say whether anything counted or scanned the table.
func runList(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	var (
		web    *httpClient
		pg     *pgxpool.Pool
		token  string
		loaded time.Duration
	)
	if o.Target != "" {
		web, token = newHTTPClient(o.Target, o.Token), o.Token
		if o.TargetDatabase != "" {
			var err error
			if pg, err = pgxpool.New(ctx, o.TargetDatabase); err != nil {
				return nil, err
			}
			defer pg.Close()
		}
	} else {
		s, err := startStack(ctx, o, progress)
		if err != nil {
			return nil, err
		}
		defer s.close()
		began := time.Now()
		if err := loadCases(ctx, s.pg, o.Cases); err != nil {
			return nil, err
		}
		loaded = time.Since(began)
		progress("%d cases loaded in %.1f s", o.Cases, loaded.Seconds())
		if token, err = s.web.login(ctx, requesterAgent); err != nil {
			return nil, err
		}
		web, pg = s.web, s.pg
	}

	type phase struct {
		name string
		op   func(ctx context.Context) error
	}
	get := func(path string) func(ctx context.Context) error {
		return func(ctx context.Context) error { return web.do(ctx, "GET", path, token, nil, http.StatusOK, nil) }
	}
	phases := []phase{
		{"api first page", get(fmt.Sprintf("/api/v1/cases?limit=%d", listPage))},
		{"console first page", get("/console?view=all")},
	}
	var deepID string
	if pg != nil {
		// The cursor of the last page: the id of the row that ends the page
		// before it, found once, outside the measurement.
		var n int
		if err := pg.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&n); err != nil {
			return nil, err
		}
		if err := pg.QueryRow(ctx, "SELECT id FROM cases ORDER BY id DESC OFFSET $1 LIMIT 1", max(0, n-listPage-1)).Scan(&deepID); err != nil {
			return nil, err
		}
		cursor := base64.RawURLEncoding.EncodeToString([]byte(deepID))
		progress("the deep page starts %d rows down", max(0, n-listPage-1))
		phases = append(phases,
			phase{"api deep page", get(fmt.Sprintf("/api/v1/cases?limit=%d&cursor=%s", listPage, cursor))},
			phase{"direct deep query", func(ctx context.Context) error {
				// The statement the store runs for that page.
				rows, err := pg.Query(ctx, `SELECT * FROM "cases" WHERE id < $1 ORDER BY id DESC LIMIT $2`, deepID, listPage+1)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			}},
			phase{"console deep page", get("/console?view=all&cursor=" + cursor)},
		)
	}

	before, _ := tableStats(ctx, pg)
	requests := 0
	each := o.Duration / time.Duration(len(phases))
	results := map[string]Result{}
	for _, ph := range phases {
		var sm samples
		openLoop(ctx, o.Rate, o.Concurrency, each, func() {
			start := time.Now()
			sm.add(start, ph.op(ctx))
		})
		r := sm.result("list", ph.name, o.Concurrency)
		r.PerSecond = float64(r.Count) / each.Seconds() // the offered rate, met or not
		requests += r.Count + r.Errors
		results[ph.name] = r
		progress("%s: %d requests, p50 %.2f ms, p99 %.2f ms, %d errors", ph.name, r.Count, r.P50ms, r.P99ms, r.Errors)
	}
	after, statsOK := tableStats(ctx, pg)

	out := []Result{}
	first := results["api first page"]
	goal(&first, "p99 ≤ 25 ms", first.P99ms <= 25)
	if loaded > 0 {
		first.Extra = map[string]float64{"cases": float64(o.Cases), "load_seconds": loaded.Seconds()}
	}
	out = append(out, first)
	if deep, ok := results["api deep page"]; ok {
		direct := results["direct deep query"]
		deep.Ratio = ratio(deep.P50ms, first.P50ms)
		goal(&deep, "p99 ≤ 25 ms; p50 ≤ 1.5× first page", deep.P99ms <= 25 && deep.Ratio != nil && *deep.Ratio <= 1.5)
		direct.Ratio = ratio(deep.P50ms, direct.P50ms)
		if direct.Ratio != nil {
			goal(&direct, "api deep p50 ≤ 3× this", *direct.Ratio <= 3)
		}
		if statsOK && requests > 0 {
			deep.Extra = map[string]float64{
				"seq_scans_during_run":       float64(after.seqScans - before.seqScans),
				"rows_read_per_request":      float64(after.rowsRead-before.rowsRead) / float64(requests),
				"requests_in_the_statistics": float64(requests),
			}
		}
		out = append(out, deep, direct)
	}
	for _, name := range []string{"console first page", "console deep page"} {
		if r, ok := results[name]; ok {
			goal(&r, "p99 ≤ 50 ms", r.P99ms <= 50)
			out = append(out, r)
		}
	}
	return out, nil
}

type stats struct{ seqScans, rowsRead int64 }

// tableStats reads PostgreSQL's counters of the cases table: sequential
// scans, and rows read by them and through its indexes. A server process
// that has been busy flushes its counters once idle for up to 10 s, hence
// the pause.
func tableStats(ctx context.Context, pg *pgxpool.Pool) (stats, bool) {
	var st stats
	if pg == nil {
		return st, false
	}
	time.Sleep(11 * time.Second)
	err := pg.QueryRow(ctx, `SELECT coalesce(t.seq_scan, 0), coalesce(t.seq_tup_read, 0) +
		coalesce((SELECT sum(i.idx_tup_read) FROM pg_stat_user_indexes i WHERE i.relid = t.relid), 0)::bigint
		FROM pg_stat_user_tables t WHERE t.relname = 'cases'`).Scan(&st.seqScans, &st.rowsRead)
	return st, err == nil
}
