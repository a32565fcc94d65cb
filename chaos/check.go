package chaos

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
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
	kills []time.Time
	rep   *Report
}

// explainWindow is how close to SendGrid's acceptance of a message a kill
// explains a second copy: the worker died while the message was on its way
// (written to the socket, read by SendGrid after the sender was gone) or
// before the heartbeat that keeps the acceptance. On a busy machine that
// window is milliseconds wide; a second either way is generous.
const explainWindow = time.Second

func (k *checker) violate(format string, args ...any) {
	k.rep.Violations = append(k.rep.Violations, fmt.Sprintf(format, args...))
}

type caseRow struct {
	ID, Kind, Status, Resolution, WorkflowID, RunID string
	Version                                         int64
	Closed                                          bool
}

func (k *checker) cases(ctx context.Context) ([]caseRow, error) {
	rows, err := k.db.QueryContext(ctx, `SELECT id, kind, status, resolution, workflow_id, run_id, version, closed_at IS NOT NULL FROM cases ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []caseRow
	for rows.Next() {
		var c caseRow
		if err := rows.Scan(&c.ID, &c.Kind, &c.Status, &c.Resolution, &c.WorkflowID, &c.RunID, &c.Version, &c.Closed); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// awaitWorkflows waits until every case's workflow run has closed: a case
// shows its final status before its last emails go.
func (k *checker) awaitWorkflows(ctx context.Context) error {
	cs, err := k.cases(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for _, c := range cs {
		if err := k.tc.GetWorkflow(ctx, c.WorkflowID, c.RunID).Get(ctx, nil); err != nil {
			k.violate("the workflow of case %s (%s) did not complete: %v", c.ID, c.Kind, err)
		}
	}
	return nil
}

// run runs the checks; each adds what it proves to rep.Checks and what it
// found to the report.
func (k *checker) run(ctx context.Context) error {
	for _, f := range []func(context.Context) error{k.checkCases, k.checkTimelines, k.checkEmails, k.checkProfiles, k.checkPeople, k.checkNotices} {
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
	rows, err := k.db.QueryContext(ctx, `SELECT case_id, seq, type FROM case_events ORDER BY case_id, seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	seqs, types := map[string][]int64{}, map[string][]string{}
	for rows.Next() {
		var id, typ string
		var seq int64
		if err := rows.Scan(&id, &seq, &typ); err != nil {
			return err
		}
		seqs[id], types[id] = append(seqs[id], seq), append(types[id], typ)
	}
	if err := rows.Err(); err != nil {
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
	rows, err := k.db.QueryContext(ctx, `SELECT case_id, step, status FROM emails`)
	if err != nil {
		return err
	}
	defer rows.Close()
	recorded := map[emailKey]string{}
	for rows.Next() {
		var key emailKey
		var status string
		if err := rows.Scan(&key.CaseID, &key.Step, &status); err != nil {
			return err
		}
		recorded[key] = status
	}
	if err := rows.Err(); err != nil {
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

// checkProfiles: the store's rules over all profiles and merge events.
func (k *checker) checkProfiles(ctx context.Context) error {
	k.proves("at most one certification profile is connected to a learning profile")
	k.proves("a merged profile is not connected and points at an active profile (no chains, no cycles); an active one points nowhere")
	k.proves("no certification sits on a merged profile")
	k.proves("every merged profile was merged by exactly one `merged` event; a merge case has one `merged` event if it merged, none otherwise")
	k.proves("a completed connect case has one `connected` event; a completed recovery one `completed` event naming its profile, and no profile was re-bound by two cases")
	queries := []struct{ what, sql string }{
		{"learning profile with more than one connected profile",
			`SELECT connected_learning_profile_id FROM certification_profiles WHERE connected_learning_profile_id IS NOT NULL
			 GROUP BY connected_learning_profile_id HAVING count(*) > 1`},
		{"merged profile connected, or merged into a missing or merged profile",
			`SELECT p.id FROM certification_profiles p LEFT JOIN certification_profiles t ON t.id = p.merged_into_id
			 WHERE p.status = 'merged' AND (p.connected_learning_profile_id IS NOT NULL OR t.id IS NULL OR t.status <> 'active')`},
		{"active profile with merged_into set",
			`SELECT id FROM certification_profiles WHERE status = 'active' AND merged_into_id IS NOT NULL`},
		{"certification on a merged profile",
			`SELECT c.id FROM certifications c JOIN certification_profiles p ON p.id = c.profile_id WHERE p.status = 'merged'`},
	}
	for _, q := range queries {
		ids, err := k.strings(ctx, q.sql)
		if err != nil {
			return err
		}
		for _, id := range ids {
			k.violate("%s: %s", q.what, id)
		}
	}

	// Merges: who merged what, from the timelines.
	type evRow struct {
		caseID, kind, status, resolution, typ string
		data                                  []byte
	}
	rows, err := k.db.QueryContext(ctx, `SELECT e.case_id, c.kind, c.status, c.resolution, e.type, e.data FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE e.type IN ('merged', 'connected', 'completed', 'already_connected')`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var evs []evRow
	for rows.Next() {
		var e evRow
		if err := rows.Scan(&e.caseID, &e.kind, &e.status, &e.resolution, &e.typ, &e.data); err != nil {
			return err
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A connect case's merge: the case its timeline names is the one that
	// ran as its child.
	k.proves("the merge case a connect case's timeline names (merge_started, merge_finished) is the one that ran as its child")
	if err := k.checkMergeRefs(ctx); err != nil {
		return err
	}
	mergedBy := map[string][]string{} // profile → cases that merged it
	perCase := map[string]map[string]int{}
	reboundBy := map[string][]string{} // profile → recovery cases that re-bound it
	for _, e := range evs {
		if perCase[e.caseID] == nil {
			perCase[e.caseID] = map[string]int{}
		}
		perCase[e.caseID][e.typ]++
		var data struct {
			MergedIDs []string `json:"merged_ids"`
			ProfileID string   `json:"profile_id"`
		}
		_ = json.Unmarshal(e.data, &data)
		switch {
		case e.typ == "merged":
			for _, id := range data.MergedIDs {
				mergedBy[id] = append(mergedBy[id], e.caseID)
			}
		case e.typ == "completed" && e.kind == string(certdesk.KindRecovery):
			reboundBy[data.ProfileID] = append(reboundBy[data.ProfileID], e.caseID)
		}
	}
	merged, err := k.strings(ctx, `SELECT id FROM certification_profiles WHERE status = 'merged'`)
	if err != nil {
		return err
	}
	for _, id := range merged {
		if n := len(mergedBy[id]); n != 1 {
			k.violate("profile %s is merged, and %d cases' `merged` events name it: %v", id, n, mergedBy[id])
		}
		delete(mergedBy, id)
	}
	for id, cases := range mergedBy {
		k.violate("profile %s is named by `merged` events of %v but is not merged", id, cases)
	}
	for id, cases := range reboundBy {
		if len(cases) > 1 {
			k.violate("profile %s was re-bound by %d recovery cases: %v", id, len(cases), cases)
		}
	}
	cs, err := k.cases(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		n := perCase[c.ID]
		switch {
		case c.Kind == string(certdesk.KindMerge) && c.Resolution == "merged" && n["merged"] != 1,
			c.Kind == string(certdesk.KindMerge) && c.Resolution != "merged" && n["merged"] != 0:
			k.violate("merge case %s (%s) has %d `merged` events", c.ID, c.Resolution, n["merged"])
		case c.Kind == string(certdesk.KindConnect) && c.Status == string(certdesk.StatusCompleted) && n["connected"]+n["already_connected"] != 1:
			k.violate("connect case %s has %d `connected` events", c.ID, n["connected"]+n["already_connected"])
		case c.Kind == string(certdesk.KindRecovery) && c.Status == string(certdesk.StatusCompleted) && n["completed"] != 1:
			k.violate("recovery case %s has %d `completed` events", c.ID, n["completed"])
		}
	}
	return nil
}

// checkMergeRefs holds the merge case ids a connect case's timeline names
// against the merge cases whose parent it is.
func (k *checker) checkMergeRefs(ctx context.Context) error {
	rows, err := k.db.QueryContext(ctx, `SELECT e.case_id, e.type, e.data->>'merge_case_id',
		(SELECT string_agg(m.id, ' ') FROM cases m WHERE m.parent_case_id = e.case_id)
		FROM case_events e WHERE e.type IN ('merge_started', 'merge_finished')`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var caseID, typ string
		var named, children sql.NullString
		if err := rows.Scan(&caseID, &typ, &named, &children); err != nil {
			return err
		}
		if named.String == "" || named.String != children.String {
			k.violate("connect case %s: its %s event names merge case %q, but its child merge case is %q", caseID, typ, named.String, children.String)
		}
	}
	return rows.Err()
}

func (k *checker) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := k.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// checkPeople: every person's profiles are as their script leaves them.
func (k *checker) checkPeople(ctx context.Context) error {
	k.proves("every person's profiles are as their script leaves them: merged into the older one or not at all, the survivor connected to their learning profile or nothing connected, re-bound to the new account or every owner as it was")
	k.proves("no certification was lost or made: each person holds as many as before, a merge collapses the one held twice")
	type profileRow struct {
		status                       string
		mergedInto, connected, owner sql.NullString
		certs, collapsed             int
	}
	rows, err := k.db.QueryContext(ctx, `SELECT p.id, p.status, p.merged_into_id, p.connected_learning_profile_id, p.owner_account_id,
		(SELECT count(*) FROM certifications c WHERE c.profile_id = p.id),
		(SELECT count(*) FROM certifications c WHERE c.profile_id = p.id AND c.duplicate_of_id IS NOT NULL)
		FROM certification_profiles p`)
	if err != nil {
		return err
	}
	defer rows.Close()
	profiles := map[string]profileRow{}
	for rows.Next() {
		var id string
		var p profileRow
		if err := rows.Scan(&id, &p.status, &p.mergedInto, &p.connected, &p.owner, &p.certs, &p.collapsed); err != nil {
			return err
		}
		profiles[id] = p
	}
	if err := rows.Err(); err != nil {
		return err
	}
	accounts := map[string][2]string{} // email → id, status
	arows, err := k.db.QueryContext(ctx, `SELECT email, id, status FROM accounts`)
	if err != nil {
		return err
	}
	defer arows.Close()
	for arows.Next() {
		var email, id, status string
		if err := arows.Scan(&email, &id, &status); err != nil {
			return err
		}
		accounts[email] = [2]string{id, status}
	}
	if err := arows.Err(); err != nil {
		return err
	}
	people := map[*person]bool{}
	for _, e := range k.r.exps {
		people[e.person] = true
	}
	for p := range people {
		want := p.variant.after
		bad := func(format string, args ...any) {
			k.violate("%s (%s): %s", p.name, p.variant.name, fmt.Sprintf(format, args...))
		}
		survivor := p.profiles[0]
		if want.merged {
			survivor = p.profiles[1]
		}
		total, collapsed := 0, 0
		for i, id := range p.profiles {
			row := profiles[id]
			total, collapsed = total+row.certs, collapsed+row.collapsed
			switch {
			case want.merged && i == 0 && (row.status != certdesk.ProfileMerged || row.mergedInto.String != p.profiles[1]):
				bad("profile %s is %s, merged into %q; want merged into %s", id, row.status, row.mergedInto.String, p.profiles[1])
			case (!want.merged || i > 0) && row.status != certdesk.ProfileActive:
				bad("profile %s is %s; want active", id, row.status)
			}
			switch {
			case want.connected && id == survivor && row.connected.String != p.lp:
				bad("profile %s is connected to %q; want their learning profile %s", id, row.connected.String, p.lp)
			case (!want.connected || id != survivor) && row.connected.Valid:
				bad("profile %s is connected to %s; want nothing connected", id, row.connected.String)
			}
			owner := p.owners[i]
			if want.rebound && i == 0 {
				acct, ok := accounts[p.newEmail]
				if !ok || acct[1] != certdesk.AccountActive {
					bad("the new account %s is %v; want it active", p.newEmail, acct)
				}
				owner = acct[0]
			}
			if row.owner.String != owner {
				bad("profile %s is owned by %q; want %q", id, row.owner.String, owner)
			}
		}
		if !want.rebound && p.newEmail != "" {
			if _, ok := accounts[p.newEmail]; ok {
				bad("the new account %s exists, though nothing was recovered", p.newEmail)
			}
		}
		wantCollapsed := 0
		if want.merged {
			wantCollapsed = 1 // both profiles hold AZ-900
			if n := profiles[survivor].certs; n != p.certs*len(p.profiles) {
				bad("the survivor holds %d certifications; want %d", n, p.certs*len(p.profiles))
			}
		}
		if total != p.certs*len(p.profiles) || collapsed != wantCollapsed {
			bad("%d certifications (%d collapsed); want %d (%d collapsed)", total, collapsed, p.certs*len(p.profiles), wantCollapsed)
		}
	}
	return nil
}

// checkNotices measures how long each recovery's "this wasn't me" notice
// gave its owner: from SendGrid's acceptance to the end of the cooling-off.
// The cooling-off is counted from the approval, so a notice delayed by
// faults leaves less; the shortest is reported, and every notice that left
// less than half the cooling-off is a finding.
func (k *checker) checkNotices(ctx context.Context) error {
	rows, err := k.db.QueryContext(ctx, `SELECT case_id, data->>'ends_at', at FROM case_events WHERE type = 'cooling_off'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	type cooling struct{ from, ends time.Time }
	cases := map[string]cooling{}
	for rows.Next() {
		var id, ends string
		var at time.Time
		if err := rows.Scan(&id, &ends, &at); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, ends)
		if err != nil {
			return fmt.Errorf("cooling_off of case %s: ends_at %q: %w", id, ends, err)
		}
		cases[id] = cooling{at, t}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	first := true
	for _, s := range k.prov.accepted() {
		c, ok := cases[s.CaseID]
		if !ok || !strings.HasPrefix(s.Step, "cooling-off-") {
			continue
		}
		left := c.ends.Sub(s.At)
		if first || left.Seconds() < k.rep.NoticeWindowMin {
			k.rep.NoticeWindowMin, first = left.Seconds(), false
		}
		if period := c.ends.Sub(c.from); left < period/2 {
			k.rep.Findings = append(k.rep.Findings, fmt.Sprintf(
				"case %s: the \"this wasn't me\" notice %s went out %v after the approval: its owner had %v of the %v cooling-off to cancel",
				s.CaseID, s.Step, s.At.Sub(c.from).Round(time.Second), max(left, 0).Round(time.Second), period.Round(time.Second)))
		}
	}
	return nil
}
