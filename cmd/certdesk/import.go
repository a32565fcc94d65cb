package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// runImport loads records from a system of record (docs/import.md):
//
//	certdesk import profiles|accounts [--dry-run] [--report FILE] [--batch N] [--data-dir DIR] FILE
//
// FILE is NDJSON (.ndjson, .jsonl) or CSV (.csv). Exit status 0 when every
// row applied or was unchanged, 1 when some were refused (the report lists
// them), 2 on a usage error or when the database does not answer.
func runImport(ctx context.Context, args []string, stdout io.Writer) error {
	kind, cmd, f, args, err := subcommand("import", []string{"profiles", "accounts"}, args, stdout, importCommand)
	if err != nil {
		return err
	}
	// Flags may come before or after the file.
	if err := cmd.parseWithArgs(args); err != nil {
		return err
	}
	rest := cmd.Args()
	if len(rest) == 0 {
		return usagef("import %s: give the file to import (certdesk import %s --help)", kind, kind)
	}
	path := rest[0]
	if err := cmd.parseWithArgs(rest[1:]); err != nil {
		return err
	}
	if cmd.NArg() > 0 {
		return usagef("import %s: one file at a time, not %q", kind, append([]string{path}, cmd.Args()...))
	}
	format, err := store.FormatOf(path)
	if err != nil {
		return usageError{err}
	}
	file, err := os.Open(path)
	if err != nil {
		return usageError{fmt.Errorf("import %s: %w", kind, err)}
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return usageError{err}
	}
	if f.report == "" {
		f.report = path + ".report.ndjson"
	}

	// The source reads a CSV file's header now: a file that is not of
	// these records is a usage error, before anything opens.
	in := &countingReader{r: file}
	var importFn func(*store.Store, store.ImportOptions) (store.ImportReport, error)
	switch kind {
	case "profiles":
		src, err := store.ProfileRecords(in, format)
		if err != nil {
			return usageError{fmt.Errorf("import profiles: %s: %w", path, err)}
		}
		importFn = func(st *store.Store, o store.ImportOptions) (store.ImportReport, error) {
			return st.ImportProfiles(ctx, src, o)
		}
	default:
		src, err := store.AccountRecords(in, format)
		if err != nil {
			return usageError{fmt.Errorf("import accounts: %s: %w", path, err)}
		}
		importFn = func(st *store.Store, o store.ImportOptions) (store.ImportReport, error) {
			return st.ImportAccounts(ctx, src, o)
		}
	}

	cfg, err := storeConfig(f.dataDir)
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return usageError{err}
	}
	defer st.Close()
	rep, err := newImportReport(f.report, stdout)
	if err != nil {
		return usageError{err}
	}
	res, err := importFn(st, store.ImportOptions{DryRun: f.dryRun, BatchSize: f.batch, Refused: rep.refused,
		Progress: newProgress(stdout, in, info.Size()).update})
	if cerr := rep.close(path, kind, res, err); err == nil {
		err = cerr
	}
	switch {
	case certdesk.ErrorCode(err) == certdesk.EUNAVAILABLE:
		return usageError{err} // the database went away
	case err != nil:
		return err
	}
	if f.dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was changed")
	}
	fmt.Fprintf(stdout, "report: %s\n", f.report)
	fmt.Fprintf(stdout, "inserted %d, updated %d, unchanged %d, refused %d\n", res.Inserted, res.Updated, res.Unchanged, res.Refused)
	if res.Refused > 0 {
		return fmt.Errorf("import %s: %d rows refused (each with its line and reason in %s)", kind, res.Refused, f.report)
	}
	return nil
}

type importFlags struct {
	dryRun          bool
	report, dataDir string
	batch           int
}

// importCommand is an import kind's flags; nil for an unknown kind.
func importCommand(kind string, stdout io.Writer) (*command, *importFlags) {
	var about string
	switch kind {
	case "profiles":
		about = "Imports certification profile records (with their certifications and exams) from NDJSON or CSV, keyed by MCID: new profiles are inserted, changed ones updated with their history, the same ones left as they are. See docs/import.md."
	case "accounts":
		about = "Imports account records from NDJSON or CSV, keyed by email: new accounts are inserted, a changed display name or a later sign-in updated. See docs/import.md."
	default:
		return nil, nil
	}
	f := &importFlags{}
	cmd := newCommand("import "+kind, "import "+kind+" [--dry-run] [--report FILE] [--batch N] [--data-dir DIR] FILE",
		about+" Exit status 0 when every row applied or was unchanged, 1 when some were refused (listed in the report), 2 on a usage or connection error.", stdout)
	cmd.BoolVar(&f.dryRun, "dry-run", false, "compute the report and change nothing")
	cmd.StringVar(&f.report, "report", "", "write the report (refused rows, then the summary; NDJSON) to this file (default FILE.report.ndjson)")
	cmd.IntVar(&f.batch, "batch", 10_000, "records merged per transaction")
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}

// importReport writes the report file: a line per refused row, in line
// order, then the summary; the first refusals go to stdout too.
type importReport struct {
	f      *os.File
	enc    *json.Encoder
	stdout io.Writer
	shown  int
}

// shownRefusals is how many refused rows stdout lists.
const shownRefusals = 10

func newImportReport(path string, stdout io.Writer) (*importReport, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	return &importReport{f: f, enc: json.NewEncoder(f), stdout: stdout}, nil
}

func (r *importReport) refused(x store.Refusal) error {
	if r.shown < shownRefusals {
		fmt.Fprintf(r.stdout, "line %d refused: %s\n", x.Line, x.Reason)
	}
	r.shown++
	return r.enc.Encode(struct {
		Type string `json:"type"`
		store.Refusal
	}{"refused", x})
}

func (r *importReport) close(path, kind string, res store.ImportReport, failed error) error {
	if r.shown > shownRefusals {
		fmt.Fprintf(r.stdout, "… and %d more refused rows in the report\n", r.shown-shownRefusals)
	}
	summary := struct {
		Type  string `json:"type"`
		File  string `json:"file"`
		Kind  string `json:"kind"`
		Error string `json:"error,omitempty"`
		store.ImportReport
	}{Type: "summary", File: path, Kind: kind, ImportReport: res}
	if failed != nil {
		summary.Error = failed.Error()
	}
	err := r.enc.Encode(summary)
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// countingReader counts the bytes read through it, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress shows an import's progress: a bar redrawn on stderr when it is
// a terminal, else a plain line on stdout every few seconds and at the end
// of each phase.
type progress struct {
	out   io.Writer
	bar   bool
	in    *countingReader
	size  int64
	began time.Time
	last  time.Time
	// phase is the phase of the last plain line, finished whether it
	// said the phase was done.
	phase    string
	finished bool
}

func newProgress(stdout io.Writer, in *countingReader, size int64) *progress {
	p := &progress{out: stdout, in: in, size: size, began: time.Now()}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		p.out, p.bar = os.Stderr, true
	}
	return p
}

func (p *progress) update(u store.ImportProgress) {
	now := time.Now()
	done, total := float64(u.Rows), float64(u.Total)
	if u.Phase == "staging" {
		done, total = float64(p.in.n.Load()), float64(p.size)
	}
	frac := 1.0
	if total > 0 {
		frac = min(1, done/total)
	}
	finished := frac >= 1
	if !p.bar {
		switch {
		case u.Phase != p.phase:
			p.phase = u.Phase
		case p.finished, !finished && now.Sub(p.last) < 5*time.Second:
			return
		}
		p.last, p.finished = now, finished
		fmt.Fprintf(p.out, "%6.1fs  %s: %d rows (%.0f%%)\n", now.Sub(p.began).Seconds(), u.Phase, u.Rows, 100*frac)
		return
	}
	if now.Sub(p.last) < 100*time.Millisecond && !finished {
		return
	}
	p.last = now
	const width = 30
	filled := int(frac * width)
	fmt.Fprintf(p.out, "\r%-8s [%s%s] %3.0f%%  %d rows  %.0fs ", u.Phase, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		100*frac, u.Rows, now.Sub(p.began).Seconds())
	if finished && u.Phase == "merging" {
		fmt.Fprintln(p.out)
	}
}
