// Package bench measures certdesk against the engine beneath it. Each
// scenario runs on an embedded stack it builds itself (a PostgreSQL
// database of its own, the embedded Temporal server, the API on a local
// port and the worker in this process, tuned as in production) and reports
// ratios measured in the same run, because absolute times drift on a busy
// machine:
//
//   - throughput: connect cases that need no human against a baseline
//     workflow running the same activities as no-ops;
//   - decision: an agent's decision through the API (an Update);
//   - link: the POST of an email link until the workflow has moved on;
//   - list: GET /api/v1/cases at a million cases, first page vs deep page
//     vs the same query run directly on the database;
//   - memory: heap and stacks per case waiting for an agent, and how soon
//     a restarted worker reacts compared to a warm one.
//   - import: `certdesk import` of a million certification profiles
//     against a raw COPY of the same rows, and the import's memory.
//
// The list scenario can also run against a deployment (Options.Target),
// reading what is there.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Options shape a run. Zero values take each scenario's defaults.
type Options struct {
	Scenario    string
	Duration    time.Duration
	Concurrency int
	// Cases is the scenario's population: cases waiting for the decision,
	// link and memory scenarios; cases in the table for list.
	Cases int
	// Rate is the fixed request rate, per second, of list, decision and
	// link (at most Concurrency at once); a negative rate runs decision and
	// link closed-loop: Concurrency agents or learners back to back.
	Rate int
	// PostgresURL is where the run's database is created (an admin URL).
	PostgresURL string
	// Target, when set, is a running certdesk (list only) and Token an
	// agent's access token there; TargetDatabase, when set, is its
	// database, for the direct query.
	Target, Token, TargetDatabase string
	// Progress receives a line per step.
	Progress io.Writer
}

// Result is one measured line of a scenario. Ratio is set where a
// baseline ran in the same run: the case's figure over the baseline's (for
// throughput, cases/s over baseline/s; for latencies, ours over theirs).
type Result struct {
	Scenario    string             `json:"scenario"`
	Name        string             `json:"name"`
	Concurrency int                `json:"concurrency,omitempty"`
	Count       int                `json:"count"`
	Errors      int                `json:"errors"`
	FirstError  string             `json:"first_error,omitempty"`
	PerSecond   float64            `json:"per_second"`
	P50ms       float64            `json:"p50_ms"`
	P90ms       float64            `json:"p90_ms"`
	P99ms       float64            `json:"p99_ms"`
	MaxMs       float64            `json:"max_ms"`
	Ratio       *float64           `json:"ratio,omitempty"`
	Goal        string             `json:"goal,omitempty"`
	Met         *bool              `json:"met,omitempty"`
	Extra       map[string]float64 `json:"extra,omitempty"`
}

// Report is what a run writes with --out.
type Report struct {
	Scenario string    `json:"scenario"`
	Started  time.Time `json:"started"`
	Machine  Machine   `json:"machine"`
	Options  any       `json:"options"`
	Results  []Result  `json:"results"`
}

// scenario runs one kind of measurement.
type scenario struct {
	run func(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error)
	// defaults fills the options the scenario needs.
	defaults func(o *Options)
	// embeddedOnly: the scenario needs the stack it builds (a worker it
	// can restart, a database it can fill).
	embeddedOnly bool
}

var scenarios = map[string]scenario{
	"temporal-settings": temporalSettings, // temporal_settings.go
	"throughput": {run: runThroughput, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Duration, 20*time.Second)
		defaultTo(&o.Concurrency, 10)
	}},
	"decision": {run: runDecision, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Duration, 30*time.Second)
		defaultTo(&o.Concurrency, 8)
		defaultTo(&o.Rate, 10)
		defaultTo(&o.Cases, 400)
	}},
	"link": {run: runLink, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Duration, 30*time.Second)
		defaultTo(&o.Concurrency, 8)
		defaultTo(&o.Rate, 10)
		defaultTo(&o.Cases, 400)
	}},
	"list": {run: runList, defaults: func(o *Options) {
		defaultTo(&o.Duration, 30*time.Second)
		defaultTo(&o.Concurrency, 8)
		defaultTo(&o.Cases, 1_000_000)
		defaultTo(&o.Rate, 50)
	}},
	"memory": {run: runMemory, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Concurrency, 20)
		defaultTo(&o.Cases, 10_000)
	}},
	"events": {run: runEvents, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Duration, 20*time.Second)
		defaultTo(&o.Concurrency, 10)
		defaultTo(&o.Rate, 50)
		defaultTo(&o.Cases, 100_000) // the backlog to drain
	}},
	"import": {run: runImport, embeddedOnly: true, defaults: func(o *Options) {
		defaultTo(&o.Cases, 1_000_000) // certification profiles
	}},
}

// minCases is the fewest waiting cases a scenario can measure with.
const minCases = 20

// Scenarios names the scenarios, sorted.
func Scenarios() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func defaultTo[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Run runs a scenario and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	sc, ok := scenarios[o.Scenario]
	if !ok {
		return nil, fmt.Errorf("bench: no scenario %q (one of %s)", o.Scenario, strings.Join(Scenarios(), ", "))
	}
	if o.Target != "" && sc.embeddedOnly {
		return nil, fmt.Errorf("bench: the %s scenario runs on the stack it builds itself; only list runs against --target", o.Scenario)
	}
	if o.Target != "" && o.Token == "" {
		return nil, fmt.Errorf("bench: --target needs --token, an agent's access token there (certdesk token create)")
	}
	if o.Duration < 0 || o.Concurrency < 0 || o.Cases < 0 {
		return nil, fmt.Errorf("bench: --duration, --concurrency and --cases must not be negative")
	}
	if o.Rate < 0 && o.Scenario == "list" {
		return nil, fmt.Errorf("bench: list runs at a fixed --rate (per second)")
	}
	sc.defaults(&o)
	if o.Cases < minCases && (o.Scenario == "decision" || o.Scenario == "link" || o.Scenario == "memory") {
		return nil, fmt.Errorf("bench: the %s scenario needs --cases %d or more (some are used to warm up or to compare)", o.Scenario, minCases)
	}
	if o.PostgresURL == "" {
		o.PostgresURL = os.Getenv("CERTDESK_TEST_POSTGRES_URL")
	}
	if o.PostgresURL == "" {
		o.PostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	began := time.Now()
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%6.1fs  "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
		}
	}
	results, err := sc.run(ctx, o, progress)
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", o.Scenario, err)
	}
	opts := map[string]any{"duration": o.Duration.String(), "concurrency": o.Concurrency, "cases": o.Cases}
	if o.Rate != 0 {
		opts["rate"] = o.Rate
	}
	if o.Target != "" {
		opts["target"] = o.Target
	}
	return &Report{Scenario: o.Scenario, Started: began.UTC(), Machine: ThisMachine(), Options: opts, Results: results}, nil
}

// WriteTable prints a report's results as a table.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tname\tconc\tcount\terrors\tper s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tratio\tgoal\t")
	for _, res := range r.Results {
		ratio, met := "", ""
		if res.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *res.Ratio)
		}
		if res.Met != nil {
			met = map[bool]string{true: " met", false: " MISSED"}[*res.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", res.Scenario, res.Name, res.Concurrency,
			res.Count, res.Errors, res.PerSecond, res.P50ms, res.P90ms, res.P99ms, res.MaxMs, ratio, res.Goal+met)
	}
	tw.Flush()
	for _, res := range r.Results {
		if res.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", res.Name, res.FirstError)
		}
		if len(res.Extra) == 0 {
			continue
		}
		keys := make([]string, 0, len(res.Extra))
		for k := range res.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(w, "%s:", res.Name)
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%.4g", k, res.Extra[k])
		}
		fmt.Fprintln(w)
	}
}

// WriteJSON writes a report to a file.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// goal marks a result against a goal: ok says whether it was met.
func goal(r *Result, text string, ok bool) {
	r.Goal, r.Met = text, &ok
}

func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}
