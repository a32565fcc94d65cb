package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Report is what a run found. Its JSON is the run's record.
type Report struct {
	Cases               int            `json:"cases"`
	CasesByKind         map[string]int `json:"cases_by_kind"`
	Scripts             int            `json:"scripts"`
	ScriptsByVariant    map[string]int `json:"scripts_by_variant"`
	CompletedAsExpected int            `json:"completed_as_expected"`
	Unexpected          []string       `json:"unexpected,omitempty"`
	ScriptErrors        []string       `json:"script_errors,omitempty"`
	// Findings are what the scripts saw go wrong on the way though the
	// case carried on (the checks count what they prove wrong).
	Findings []string `json:"findings,omitempty"`

	EmailsExpected   int `json:"emails_expected"`
	EmailsSent       int `json:"emails_sent"`
	EmailsDuplicated int `json:"emails_duplicated"`
	// EmailsDuplicatedExplained are the duplicates a kill explains: a
	// worker was killed within a second of SendGrid accepting the first
	// copy, before the activity's heartbeat could keep the acceptance.
	EmailsDuplicatedExplained int         `json:"emails_duplicated_explained"`
	Duplicates                []Duplicate `json:"duplicates,omitempty"`
	EmailsMissing             int         `json:"emails_missing"`
	Missing                   []string    `json:"missing,omitempty"`

	// The domain events at the webhook subscriber (faults: 500s, answers
	// slower than the sender waits, a while away): expected are those
	// queued for it; a duplicate is explained by a timed-out attempt (the
	// receiver took it, the sender could not know) or a kill right after
	// the receiver took it.
	EventsExpected            int            `json:"events_expected"`
	EventsDelivered           int            `json:"events_delivered"`
	EventsDuplicated          int            `json:"events_duplicated"`
	EventsDuplicatedExplained int            `json:"events_duplicated_explained"`
	EventsOutOfOrder          int            `json:"events_out_of_order"`
	EventsMissing             int            `json:"events_missing"`
	SubscriberAnswers         map[string]int `json:"subscriber_answers,omitempty"`

	// NoticeWindowMin is the least time, in seconds, a recovery's "this
	// wasn't me" notice left its owner before the cooling-off ended.
	NoticeWindowMin float64 `json:"notice_window_min_seconds"`

	InvariantViolations int      `json:"invariant_violations"`
	Violations          []string `json:"violations,omitempty"`
	Checks              []string `json:"checks"`

	Kills         int      `json:"kills"`
	WorkerStarts  int      `json:"worker_starts"`
	WorkerCrashes []string `json:"worker_crashes,omitempty"`
	// SIGTERMs are the rolling restarts of the worker; SIGTERMExits how
	// long each stopping worker took to finish and exit, in seconds.
	SIGTERMs     int       `json:"sigterms"`
	SIGTERMExits []float64 `json:"sigterm_exit_seconds"`
	// The servers' restarts, and how long each kept its server away (s).
	TemporalRestarts     int       `json:"temporal_restarts"`
	TemporalRestartTimes []float64 `json:"temporal_restart_seconds"`
	PostgresRestarts     int       `json:"postgres_restarts"`
	PostgresRestartTimes []float64 `json:"postgres_restart_seconds"`
	// Postgres says which PostgreSQL the run used, and why.
	Postgres          string         `json:"postgres"`
	PostgresDataDir   string         `json:"postgres_data_dir,omitempty"`
	TemporalDatabase  string         `json:"temporal_database,omitempty"`
	DBDrops           int            `json:"db_drops"`
	DBBackendsDropped int            `json:"db_backends_terminated"`
	ProviderRequests  int            `json:"provider_requests"`
	ProviderErrors    int            `json:"provider_errors"`
	ProviderAnswers   map[string]int `json:"provider_answers"`
	// APIUnavailable counts the API's answers that were a 5xx or none
	// (the scripts tried again).
	APIUnavailable int64          `json:"api_unavailable_answers"`
	Duration       float64        `json:"duration_seconds"`
	DriveDuration  float64        `json:"drive_seconds"`
	Options        map[string]any `json:"options"`
	Database       string         `json:"database,omitempty"`
	LogDir         string         `json:"log_dir,omitempty"`
}

// Duplicate is a (case, step) whose email SendGrid accepted more than once.
type Duplicate struct {
	CaseID   string      `json:"case_id"`
	Step     string      `json:"step"`
	Kind     string      `json:"kind"`
	Accepted []time.Time `json:"accepted_at"`
	// KilledAt is the kill that explains it, if one does.
	KilledAt *time.Time `json:"killed_at,omitempty"`
}

// OK reports whether the run found nothing wrong. A duplicate explained by
// a kill in the send→heartbeat window is the documented limit: reported,
// not a failure.
func (r *Report) OK() bool {
	return r.CompletedAsExpected == r.Cases && len(r.Unexpected) == 0 && len(r.ScriptErrors) == 0 &&
		r.EmailsMissing == 0 && r.EmailsDuplicated == r.EmailsDuplicatedExplained && r.InvariantViolations == 0 &&
		r.EventsMissing == 0 && r.EventsOutOfOrder == 0 && r.EventsDuplicated == r.EventsDuplicatedExplained &&
		len(r.WorkerCrashes) == 0
}

// Summary is the report in a few lines.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cases                  %d (%s) from %d scripts\n", r.Cases, kv(r.CasesByKind), r.Scripts)
	fmt.Fprintf(&b, "completed as expected  %d\n", r.CompletedAsExpected)
	fmt.Fprintf(&b, "emails                 %d expected, %d sent; duplicated %d (explained by a kill: %d), missing %d\n",
		r.EmailsExpected, r.EmailsSent, r.EmailsDuplicated, r.EmailsDuplicatedExplained, r.EmailsMissing)
	fmt.Fprintf(&b, "domain events          %d expected at the subscriber, %d delivered; duplicated %d (explained: %d), out of order %d, missing %d; its answers %s\n",
		r.EventsExpected, r.EventsDelivered, r.EventsDuplicated, r.EventsDuplicatedExplained, r.EventsOutOfOrder, r.EventsMissing, kv(r.SubscriberAnswers))
	fmt.Fprintf(&b, "invariant violations   %d (%d checks)\n", r.InvariantViolations, len(r.Checks))
	fmt.Fprintf(&b, "cooling-off notices    the least time one left its owner to cancel: %.0fs\n", r.NoticeWindowMin)
	fmt.Fprintf(&b, "faults                 %d worker kills (%d starts), %d database drops (%d connections cut), %d provider errors of %d requests (%s)\n",
		r.Kills, r.WorkerStarts, r.DBDrops, r.DBBackendsDropped, r.ProviderErrors, r.ProviderRequests, kv(r.ProviderAnswers))
	fmt.Fprintf(&b, "rolling restarts       %d SIGTERMs of a worker (exited in %s)\n", r.SIGTERMs, spread(r.SIGTERMExits))
	fmt.Fprintf(&b, "server restarts        Temporal %d (away %s), PostgreSQL %d (away %s)\n",
		r.TemporalRestarts, spread(r.TemporalRestartTimes), r.PostgresRestarts, spread(r.PostgresRestartTimes))
	fmt.Fprintf(&b, "postgres               %s\n", r.Postgres)
	fmt.Fprintf(&b, "api 5xx or no answer   %d (the scripts tried again)\n", r.APIUnavailable)
	fmt.Fprintf(&b, "duration               %.0fs (driving %.0fs)\n", r.Duration, r.DriveDuration)
	for _, list := range [][]string{r.ScriptErrors, r.Findings, r.Unexpected, r.Missing, r.Violations, r.WorkerCrashes} {
		for i, s := range list {
			if i == 20 {
				fmt.Fprintf(&b, "  … and %d more\n", len(list)-20)
				break
			}
			fmt.Fprintln(&b, "  !", s)
		}
	}
	for _, d := range r.Duplicates {
		why := "NOT explained by a kill"
		if d.KilledAt != nil {
			why = fmt.Sprintf("a worker was killed %v from SendGrid's acceptance of the first copy, before the heartbeat that keeps it (the known limit)",
				d.KilledAt.Sub(d.Accepted[0]).Round(100*time.Microsecond))
		}
		fmt.Fprintf(&b, "  duplicate email: case %s step %s (%s) accepted %d times: %s\n", d.CaseID, d.Step, d.Kind, len(d.Accepted), why)
	}
	if r.OK() {
		b.WriteString("OK\n")
	} else {
		b.WriteString("FAILED\n")
	}
	return b.String()
}

func kv(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// spread is "min–max s (median m s)" of a list of seconds.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(xs))
	return fmt.Sprintf("%.1f–%.1fs, median %.1fs", s[0], s[len(s)-1], s[len(s)/2])
}
