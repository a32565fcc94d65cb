package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// runImport: Cases certification profiles with 3 certifications each,
// written as an NDJSON file (docs/import.md), then loaded twice into fresh
// PostgreSQL databases: a raw COPY of the same rows straight into
// certification_profiles and certifications, and `certdesk import`'s
// path (store.ImportProfiles: read, validate, COPY into staging, merge in
// batches), and the same file once more (a reconciliation where nothing
// changed: every row unchanged). The ratio is the import's time over the
// raw COPY's. The
// process's heap and RSS are sampled during the import: flat means the
// heap's peak in its second half is no higher than in its first, give or
// take.
func runImport(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	dir, err := os.MkdirTemp("", "certdesk-bench-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "profiles.ndjson")
	size, err := writeImportFile(path, o.Cases)
	if err != nil {
		return nil, err
	}
	progress("%d profiles × %d certifications written to %s (%.0f MB)", o.Cases, len(importCerts), path, float64(size)/(1<<20))

	copyTime, err := rawCopy(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("raw copy: %w", err)
	}
	progress("raw COPY: %.1f s", copyTime.Seconds())

	imp, err := benchImport(ctx, o, path, progress)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	progress("import: %.1f s (staging %.1f s, merging %.1f s)", imp.took.Seconds(), imp.staged.Seconds(), (imp.took - imp.staged).Seconds())

	rows := float64(o.Cases * (1 + len(importCerts)))
	raw := Result{Scenario: "import", Name: "raw COPY", Count: o.Cases, PerSecond: float64(o.Cases) / copyTime.Seconds(),
		Extra: map[string]float64{"seconds": copyTime.Seconds(), "rows": rows}}
	res := Result{Scenario: "import", Name: "import", Count: imp.report.Inserted, PerSecond: float64(imp.report.Inserted) / imp.took.Seconds(),
		Errors: imp.report.Refused + (o.Cases - imp.report.Inserted), Ratio: ratio(imp.took.Seconds(), copyTime.Seconds()),
		Extra: map[string]float64{
			"seconds": imp.took.Seconds(), "staging_seconds": imp.staged.Seconds(), "merging_seconds": (imp.took - imp.staged).Seconds(),
			"certifications": float64(imp.report.Certifications), "file_mb": float64(size) / (1 << 20),
		}}
	if imp.report.Refused > 0 {
		res.FirstError = fmt.Sprintf("%d rows refused", imp.report.Refused)
	}
	goal(&res, "≤ 3× raw COPY", res.Ratio != nil && *res.Ratio <= 3)
	again := Result{Scenario: "import", Name: "same file again", Count: imp.again.Unchanged, PerSecond: float64(imp.again.Unchanged) / imp.againTook.Seconds(),
		Errors: o.Cases - imp.again.Unchanged, Ratio: ratio(imp.againTook.Seconds(), copyTime.Seconds()),
		Extra: map[string]float64{"seconds": imp.againTook.Seconds(), "changed": float64(imp.again.Inserted + imp.again.Updated)}}
	goal(&again, "every row unchanged", imp.again.Unchanged == o.Cases)
	progress("same file again: %.1f s, %d unchanged", imp.againTook.Seconds(), imp.again.Unchanged)
	mem := Result{Scenario: "import", Name: "import memory", Count: len(imp.mem), Extra: imp.memoryFigures()}
	goal(&mem, "flat: the heap's peak in the second half ≤ 1.5× the first's", mem.Extra["heap_growth"] <= 1.5)
	return []Result{raw, res, again, mem}, nil
}

// importCerts are each generated profile's certifications.
var importCerts = []struct{ code, title string }{
	{"AZ-900", "Microsoft Certified: Azure Fundamentals"},
	{"AZ-104", "Microsoft Certified: Azure Administrator Associate"},
	{"AZ-305", "Microsoft Certified: Azure Solutions Architect Expert"},
}

var importEpoch = time.Date(2018, 1, 1, 9, 0, 0, 0, time.UTC)

// importProfile is the i-th generated profile.
func importProfile(i int) certdesk.ProfileRecord {
	created := importEpoch.Add(time.Duration(i) * time.Minute)
	r := certdesk.ProfileRecord{MCID: strconv.Itoa(10_000_000 + i), LegalName: "Bench Learner " + letters(i),
		Email: fmt.Sprintf("learner.%d@outlook.example", i), Status: certdesk.ProfileActive, CreatedAt: &created}
	for j, c := range importCerts {
		r.Certifications = append(r.Certifications, certdesk.CertificationRecord{Code: c.code, Title: c.title,
			EarnedAt: created.AddDate(0, 3*(j+1), 0)})
	}
	return r
}

// benchID is a fixed id for the raw COPY's rows: the i-th of a kind.
func benchID(kind byte, i, j int) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(importEpoch.UnixMilli())<<16)
	b[6], b[7] = kind, byte(j)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	return certdesk.IDFromBytes(b)
}

func writeImportFile(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for i := range n {
		if err := enc.Encode(importProfile(i)); err != nil {
			f.Close()
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return info.Size(), f.Close()
}

// freshStore is a new, migrated PostgreSQL database of the run's own.
func freshStore(ctx context.Context, o Options) (*store.Store, string, func(), error) {
	dbURL, drop, admin, err := store.CreateDatabase(ctx, o.PostgresURL, "certdesk_bench_")
	if err != nil {
		return nil, "", nil, err
	}
	st, err := store.Open(ctx, dbURL)
	if err == nil {
		if _, err = st.Migrate(ctx); err != nil {
			st.Close()
		}
	}
	if err != nil {
		drop()
		admin.Close()
		return nil, "", nil, err
	}
	return st, dbURL, func() { st.Close(); drop(); admin.Close() }, nil
}

// rawCopy COPYs the generated rows straight into the domain's tables of a
// fresh database, as a bulk load that checks and merges nothing would.
func rawCopy(ctx context.Context, o Options) (time.Duration, error) {
	_, dbURL, done, err := freshStore(ctx, o)
	if err != nil {
		return 0, err
	}
	defer done()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	began := time.Now()
	now := time.Now().UTC()
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"certification_profiles"},
		[]string{"id", "mcid", "legal_name", "email", "status", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == o.Cases {
				return nil, nil
			}
			r := importProfile(i)
			i++
			return []any{benchID('p', i-1, 0), r.MCID, r.LegalName, r.Email, r.Status, *r.CreatedAt, now}, nil
		}))
	if err != nil {
		return 0, err
	}
	i, j := 0, 0
	var r certdesk.ProfileRecord
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"certifications"},
		[]string{"id", "profile_id", "code", "title", "earned_at", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if j == 0 {
				if i == o.Cases {
					return nil, nil
				}
				r = importProfile(i)
				i++
			}
			c := r.Certifications[j]
			row := []any{benchID('c', i-1, j), benchID('p', i-1, 0), c.Code, c.Title, c.EarnedAt, now}
			j = (j + 1) % len(importCerts)
			return row, nil
		}))
	return time.Since(began), err
}

type importRun struct {
	report       store.ImportReport
	took, staged time.Duration
	mem          []memSample
	// again is the same file imported a second time.
	again     store.ImportReport
	againTook time.Duration
}

type memSample struct {
	at        time.Duration
	heap, rss uint64
}

// benchImport imports the file into a fresh database, sampling memory,
// then imports it again: every row is unchanged the second time.
func benchImport(ctx context.Context, o Options, path string, progress func(string, ...any)) (importRun, error) {
	var run importRun
	st, _, done, err := freshStore(ctx, o)
	if err != nil {
		return run, err
	}
	defer done()
	runtime.GC()
	began := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			run.mem = append(run.mem, memSample{at: time.Since(began), heap: ms.HeapInuse, rss: residentBytes()})
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	run.report, run.took, run.staged, err = importFile(ctx, st, path, "import", progress)
	close(stop)
	wg.Wait()
	if err != nil {
		return run, err
	}
	run.again, run.againTook, _, err = importFile(ctx, st, path, "again", progress)
	return run, err
}

// importFile imports the file once: its report, how long it took and how
// long the staging did.
func importFile(ctx context.Context, st *store.Store, path, label string, progress func(string, ...any)) (store.ImportReport, time.Duration, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.ImportReport{}, 0, 0, err
	}
	defer f.Close()
	src, err := store.ProfileRecords(bufio.NewReaderSize(f, 1<<20), store.FormatNDJSON)
	if err != nil {
		return store.ImportReport{}, 0, 0, err
	}
	began := time.Now()
	var staged time.Duration
	next := 0.25
	rep, err := st.ImportProfiles(ctx, src, store.ImportOptions{Progress: func(p store.ImportProgress) {
		if p.Phase == "staging" {
			staged = time.Since(began)
			return
		}
		if p.Total > 0 && float64(p.Rows)/float64(p.Total) >= next {
			progress("%s: %d of %d merged", label, p.Rows, p.Total)
			next += 0.25
		}
	}})
	return rep, time.Since(began), staged, err
}

// memoryFigures are the import's heap and RSS: peaks, the peak of each
// quarter of its time, and the growth of the heap's peak from the first
// half to the second (flat: about 1).
func (r importRun) memoryFigures() map[string]float64 {
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	out := map[string]float64{}
	var quarters [4]memSample
	for _, s := range r.mem {
		q := min(3, int(4*s.at/max(r.took, 1)))
		quarters[q].heap, quarters[q].rss = max(quarters[q].heap, s.heap), max(quarters[q].rss, s.rss)
		out["peak_heap_mb"], out["peak_rss_mb"] = max(out["peak_heap_mb"], mb(s.heap)), max(out["peak_rss_mb"], mb(s.rss))
	}
	for i, q := range quarters {
		out[fmt.Sprintf("heap_mb_q%d", i+1)], out[fmt.Sprintf("rss_mb_q%d", i+1)] = mb(q.heap), mb(q.rss)
	}
	first, second := max(quarters[0].heap, quarters[1].heap), max(quarters[2].heap, quarters[3].heap)
	out["heap_growth"] = 1
	if first > 0 && second > 0 {
		out["heap_growth"] = float64(second) / float64(first)
	}
	return out
}

// residentBytes is the process's resident set (Linux; 0 elsewhere).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(fields[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
