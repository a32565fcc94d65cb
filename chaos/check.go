package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// checker reads what the run left, straight from the database (SQL, not
// the store's code: the checks must not trust what they check), from
// Temporal and from the SendGrid stand-in, and holds it against what the
// scripts expect.
type checker struct {
	db    *sql.DB
	tc    client.Client
	r     *runner
	prov  *provider
	hooks *receiver
	kills []time.Time
	rep   *Report
}

// explainWindow is how close to SendGrid's acceptance of a message a kill
// explains a second copy: the worker died while the message was on its way
// (written to the socket, read by SendGrid after the sender was gone) or
// before the heartbeat that keeps the acceptance. On a busy machine that
// window is milliseconds wide; a second either way is generous.
const explainWindow = time.Second

// each runs a query and calls scan for each of its rows.
func (k *checker) each(ctx context.Context, query string, scan func(*sql.Rows) error) error {
	rows, err := k.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (k *checker) violate(format string, args ...any) {
	k.rep.Violations = append(k.rep.Violations, fmt.Sprintf(format, args...))
}

type caseRow struct {
	ID, Kind, Status, Resolution, LearnerEmail, WorkflowID, RunID string
	Version                                                       int64
	Closed                                                        bool
}

func (k *checker) cases(ctx context.Context) ([]caseRow, error) {
	var out []caseRow
	err := k.each(ctx, `SELECT id, kind, status, resolution, learner_email, workflow_id, run_id, version, closed_at IS NOT NULL FROM cases ORDER BY id`,
		func(rows *sql.Rows) error {
			var c caseRow
			err := rows.Scan(&c.ID, &c.Kind, &c.Status, &c.Resolution, &c.LearnerEmail, &c.WorkflowID, &c.RunID, &c.Version, &c.Closed)
			out = append(out, c)
			return err
		})
	return out, err
}

// awaitWorkflows waits until every case's workflow run has closed: a case
// shows its final status before its last emails go. The wait ends a minute
// before the run's own deadline so the checks still run, and a workflow
// still open then is a violation that says what it waits for.
func (k *checker) awaitWorkflows(ctx context.Context) error {
	cs, err := k.cases(ctx)
	if err != nil {
		return err
	}
	wait := 5 * time.Minute
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)-time.Minute)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for _, c := range cs {
		if k.secondSubmission(c) {
			continue // it waits for a verification nobody gives (checkCases reports it)
		}
		if err := k.tc.GetWorkflow(wctx, c.WorkflowID, c.RunID).Get(wctx, nil); err != nil {
			k.violate("the workflow of case %s (%s, %s) did not complete: %v; %s", c.ID, c.Kind, c.Status, err, k.pending(ctx, c))
		}
	}
	// The notices that are no case's (an account added to a learning
	// profile) send their email in a workflow of their own, which may
	// still be waiting out a retry after a kill or a restart.
	var notices []caseRow
	err = k.each(ctx, `SELECT DISTINCT case_id, step FROM emails WHERE case_id LIKE 'account:%' AND step LIKE 'added:%' ORDER BY case_id, step`,
		func(rows *sql.Rows) error {
			var key, step string
			if err := rows.Scan(&key, &step); err != nil {
				return err
			}
			id := workflows.AccountAddedWorkflowID(strings.TrimPrefix(key, "account:"), strings.TrimPrefix(step, "added:"))
			notices = append(notices, caseRow{ID: key + "/" + step, Kind: "account_added", WorkflowID: id})
			return nil
		})
	if err != nil {
		return err
	}
	for _, n := range notices {
		if err := k.tc.GetWorkflow(wctx, n.WorkflowID, "").Get(wctx, nil); err != nil {
			k.violate("the account-added notice %s did not complete: %v; %s", n.ID, err, k.pending(ctx, n))
		}
	}
	return nil
}

// pending says what an open workflow waits for: its pending activities
// (attempt, last failure, next attempt) and children.
func (k *checker) pending(ctx context.Context, c caseRow) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := k.tc.DescribeWorkflowExecution(ctx, c.WorkflowID, c.RunID)
	if err != nil {
		return "describe: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "status %s", d.GetWorkflowExecutionInfo().GetStatus())
	for _, a := range d.GetPendingActivities() {
		fmt.Fprintf(&b, "; activity %s %s attempt %d", a.GetActivityType().GetName(), a.GetState(), a.GetAttempt())
		if f := a.GetLastFailure(); f != nil {
			fmt.Fprintf(&b, " last failure %q", f.GetMessage())
		}
		if t := a.GetScheduledTime(); t != nil {
			fmt.Fprintf(&b, " next at %s", t.AsTime().Format(time.TimeOnly))
		}
		if w := a.GetLastWorkerIdentity(); w != "" {
			fmt.Fprintf(&b, " last worker %s", w)
		}
	}
	for _, ch := range d.GetPendingChildren() {
		fmt.Fprintf(&b, "; child %s (%s)", ch.GetWorkflowId(), ch.GetWorkflowTypeName())
	}
	if len(d.GetPendingActivities())+len(d.GetPendingChildren()) == 0 {
		b.WriteString("; no pending activity or child")
	}
	b.WriteString(k.lastEvents(ctx, c))
	return b.String()
}

// lastEvents names a workflow's last history events and its last failed
// workflow task (a workflow whose task fails again and again is stuck
// without any pending activity).
func (k *checker) lastEvents(ctx context.Context, c caseRow) string {
	it := k.tc.GetWorkflowHistory(ctx, c.WorkflowID, c.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var last []string
	var failed string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return "; history: " + err.Error()
		}
		last = append(last, fmt.Sprintf("%d %s", e.GetEventId(), e.GetEventType()))
		if len(last) > 6 {
			last = last[1:]
		}
		if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
			failed = fmt.Sprintf("%s: %s", a.GetCause(), a.GetFailure().GetMessage())
		}
	}
	out := "; last events: " + strings.Join(last, ", ")
	if failed != "" {
		out += "; last failed workflow task: " + failed
	}
	return out
}

// run runs the checks; each adds what it proves to rep.Checks and what it
// found to the report.
func (k *checker) run(ctx context.Context) error {
	for _, f := range []func(context.Context) error{k.checkCases, k.checkTimelines, k.checkEmails, k.checkProfiles, k.checkPeople, k.checkNotices, k.checkEvents} {
		if err := f(ctx); err != nil {
			return errorf("checks: %w", err)
		}
	}
	return nil
}

func (k *checker) proves(what string) { k.rep.Checks = append(k.rep.Checks, what) }

// checkCases: every case is a scripted one and ended as its script says.
func (k *checker) checkCases(ctx context.Context) error {
	k.proves("every case in the store was opened by a script, and every case a script opened is in the store")
	k.proves("every case ended with the status and resolution its script expects, and has closed_at")
	k.proves("every case's workflow run completed (none failed, timed out or was left running)")
	cs, err := k.cases(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.ID] = true
		k.rep.Cases++
		k.rep.CasesByKind[c.Kind]++
		e, ok := k.r.exps[c.ID]
		switch {
		case !ok && k.secondSubmission(c):
			k.rep.Findings = append(k.rep.Findings, fmt.Sprintf("case %s: a second recovery case of %s, opened by the form sent again after a lost answer (as a learner's second submission does); it waits for its verification", c.ID, c.LearnerEmail))
			k.rep.Cases--
			k.rep.CasesByKind[c.Kind]--
		case !ok:
			k.rep.Unexpected = append(k.rep.Unexpected, fmt.Sprintf("case %s (%s, %s/%s) was not opened by a script", c.ID, c.Kind, c.Status, c.Resolution))
		case string(e.Kind) != c.Kind || string(e.Status) != c.Status || e.Resolution != c.Resolution:
			k.rep.Unexpected = append(k.rep.Unexpected, fmt.Sprintf("case %s (%s of %s) ended %s/%s, want %s/%s",
				c.ID, e.Variant, e.person.name, c.Status, c.Resolution, e.Status, e.Resolution))
		case !c.Closed:
			k.rep.Unexpected = append(k.rep.Unexpected, fmt.Sprintf("case %s (%s) is %s without closed_at", c.ID, e.Variant, c.Status))
		default:
			k.rep.CompletedAsExpected++
		}
	}
	for id, e := range k.r.exps {
		if !seen[id] {
			k.rep.Unexpected = append(k.rep.Unexpected, fmt.Sprintf("case %s (%s of %s) is not in the store", id, e.Variant, e.person.name))
		}
	}
	return nil
}

// checkTimelines: seq 1..version without gaps, and the script's events.
func (k *checker) checkTimelines(ctx context.Context) error {
	k.proves("every case's timeline has seq 1..version: no gap, no repeat, one event per version")
	k.proves("every case's timeline is its script's, event by event: no transition missing, none written twice")
	cs, err := k.cases(ctx)
	if err != nil {
		return err
	}
	seqs, types := map[string][]int64{}, map[string][]string{}
	err = k.each(ctx, `SELECT case_id, seq, type FROM case_events ORDER BY case_id, seq`, func(rows *sql.Rows) error {
		var id, typ string
		var seq int64
		err := rows.Scan(&id, &seq, &typ)
		seqs[id], types[id] = append(seqs[id], seq), append(types[id], typ)
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range cs {
		s := seqs[c.ID]
		ok := int64(len(s)) == c.Version
		for i, seq := range s {
			ok = ok && seq == int64(i+1)
		}
		if !ok {
			k.violate("case %s: timeline seqs %v do not run 1..%d", c.ID, s, c.Version)
		}
		if e, found := k.r.exps[c.ID]; found && !timelineMatches(types[c.ID], e.Timeline) {
			k.violate("case %s (%s): timeline %v, want %v", c.ID, e.Variant, types[c.ID], e.Timeline)
		}
	}
	return nil
}

func timelineMatches(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		if !slices.Contains(strings.Split(w, "|"), got[i]) {
			return false
		}
	}
	return true
}

type emailKey struct{ CaseID, Step string }

// checkEmails: the scripts' emails, the store's emails table and what
// SendGrid accepted are one and the same set, each message once.
func (k *checker) checkEmails(ctx context.Context) error {
	k.proves("every email a script expects was accepted by SendGrid and is recorded as sent (none missing)")
	k.proves("SendGrid accepted each (case, step) at most once (duplicates listed, with the kill that explains each)")
	k.proves("the emails table and SendGrid's accepted messages are the same set, and no email went that no script expects")
	accepted := map[emailKey][]sent{}
	for _, s := range k.prov.accepted() {
		key := emailKey{s.CaseID, s.Step}
		accepted[key] = append(accepted[key], s)
	}
	recorded := map[emailKey]string{}
	err := k.each(ctx, `SELECT case_id, step, status FROM emails`, func(rows *sql.Rows) error {
		var key emailKey
		var status string
		err := rows.Scan(&key.CaseID, &key.Step, &status)
		recorded[key] = status
		return err
	})
	if err != nil {
		return err
	}
	missing := map[emailKey]string{}
	expectedKeys := map[emailKey]bool{}
	for id, e := range k.r.exps {
		for _, step := range e.Emails {
			key := emailKey{id, step}
			expectedKeys[key] = true
			switch status, ok := recorded[key]; {
			case len(accepted[key]) == 0:
				missing[key] = "expected, never accepted by SendGrid (" + orNone(status) + " in the store)"
			case !ok:
				missing[key] = "accepted by SendGrid, not recorded in the store"
			case status != store.EmailSent && status != store.EmailDelivered:
				missing[key] = "accepted by SendGrid, recorded as " + status
			}
		}
	}
	k.rep.EmailsExpected = len(expectedKeys)
	for key, status := range recorded {
		if expectedKeys[key] {
			continue
		}
		if _, isCase := k.r.exps[key.CaseID]; isCase {
			k.violate("email %s/%s (%s) was sent though no script expects it", key.CaseID, key.Step, status)
		}
		if len(accepted[key]) == 0 {
			missing[key] = "recorded as " + status + ", never accepted by SendGrid"
		}
	}
	for key, list := range accepted {
		if _, ok := recorded[key]; !ok {
			missing[key] = "accepted by SendGrid, not recorded in the store"
		}
		if !expectedKeys[key] {
			if _, isCase := k.r.exps[key.CaseID]; isCase {
				k.violate("SendGrid accepted %s/%s (%s) though no script expects it", key.CaseID, key.Step, list[0].Kind)
			}
		}
		k.rep.EmailsSent++
		if len(list) < 2 {
			continue
		}
		d := Duplicate{CaseID: key.CaseID, Step: key.Step, Kind: list[0].Kind}
		for _, s := range list {
			d.Accepted = append(d.Accepted, s.At)
		}
		for _, kill := range k.kills {
			if off := kill.Sub(list[0].At); off >= -explainWindow && off <= explainWindow {
				d.KilledAt = &kill
				break
			}
		}
		k.rep.EmailsDuplicated++
		if d.KilledAt != nil {
			k.rep.EmailsDuplicatedExplained++
		}
		k.rep.Duplicates = append(k.rep.Duplicates, d)
	}
	k.rep.EmailsMissing = len(missing)
	for key, why := range missing {
		k.rep.Missing = append(k.rep.Missing, fmt.Sprintf("email %s/%s: %s", key.CaseID, key.Step, why))
	}
	slices.Sort(k.rep.Missing)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no row"
	}
	return s
}

// secondSubmission reports whether a case no script expects is a recovery
// form's second submission: a recovery still waiting for its contact
// address's verification, from an address whose form was sent again.
func (k *checker) secondSubmission(c caseRow) bool {
	if _, ok := k.r.exps[c.ID]; ok {
		return false
	}
	k.r.mu.Lock()
	defer k.r.mu.Unlock()
	return c.Kind == "recovery" && c.Status == "awaiting_learner" && k.r.resent[c.LearnerEmail]
}
