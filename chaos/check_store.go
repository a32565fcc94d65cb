package chaos

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk"
)

// checkProfiles: the store's rules over all profiles and merge events.
func (k *checker) checkProfiles(ctx context.Context) error {
	k.proves("at most one certification profile is connected to a learning profile")
	k.proves("a merged profile is not connected and points at an active profile (no chains, no cycles); an active one points nowhere")
	k.proves("no certification sits on a merged profile")
	k.proves("every merged profile was merged by exactly one `merged` event of a merge not undone since; a merge case has one `merged` event if it merged, none otherwise")
	k.proves("an undone merge was undone by exactly one `unmerged` event, and its profiles are active again")
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
	var evs []evRow
	err := k.each(ctx, `SELECT e.case_id, c.kind, c.status, c.resolution, e.type, e.data FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE e.type IN ('merged', 'connected', 'completed', 'already_connected', 'unmerged')`, func(rows *sql.Rows) error {
		var e evRow
		err := rows.Scan(&e.caseID, &e.kind, &e.status, &e.resolution, &e.typ, &e.data)
		evs = append(evs, e)
		return err
	})
	if err != nil {
		return err
	}
	// A connect case's merge: the case its timeline names is the one that
	// ran as its child.
	k.proves("the merge case a connect case's timeline names (merge_started, merge_finished) is the one that ran as its child")
	if err := k.checkMergeRefs(ctx); err != nil {
		return err
	}
	mergedBy := map[string][]string{}  // profile → cases that merged it
	mergedIDs := map[string][]string{} // merge case → the profiles it merged
	undoneBy := map[string][]string{}  // merge case → unmerge cases that undid it
	perCase := map[string]map[string]int{}
	reboundBy := map[string][]string{} // profile → recovery cases that re-bound it
	for _, e := range evs {
		if perCase[e.caseID] == nil {
			perCase[e.caseID] = map[string]int{}
		}
		perCase[e.caseID][e.typ]++
		var data struct {
			MergedIDs   []string `json:"merged_ids"`
			ProfileID   string   `json:"profile_id"`
			MergeCaseID string   `json:"merge_case_id"`
		}
		_ = json.Unmarshal(e.data, &data)
		switch {
		case e.typ == "merged":
			mergedIDs[e.caseID] = data.MergedIDs
		case e.typ == "unmerged":
			undoneBy[data.MergeCaseID] = append(undoneBy[data.MergeCaseID], e.caseID)
		case e.typ == "completed" && e.kind == string(certdesk.KindRecovery):
			reboundBy[data.ProfileID] = append(reboundBy[data.ProfileID], e.caseID)
		}
	}
	for mergeID, ids := range mergedIDs {
		switch n := len(undoneBy[mergeID]); {
		case n > 1:
			k.violate("merge case %s was undone by %d cases: %v", mergeID, n, undoneBy[mergeID])
		case n == 1:
			continue // its profiles are active again: checked below, and per person
		}
		for _, id := range ids {
			mergedBy[id] = append(mergedBy[id], mergeID)
		}
	}
	for mergeID, by := range undoneBy {
		if _, ok := mergedIDs[mergeID]; !ok {
			k.violate("unmerge cases %v undid merge case %s, which merged nothing", by, mergeID)
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
	return k.each(ctx, `SELECT e.case_id, e.type, e.data->>'merge_case_id',
		(SELECT string_agg(m.id, ' ') FROM cases m WHERE m.parent_case_id = e.case_id)
		FROM case_events e WHERE e.type IN ('merge_started', 'merge_finished')`, func(rows *sql.Rows) error {
		var caseID, typ string
		var named, children sql.NullString
		if err := rows.Scan(&caseID, &typ, &named, &children); err != nil {
			return err
		}
		if named.String == "" || named.String != children.String {
			k.violate("connect case %s: its %s event names merge case %q, but its child merge case is %q", caseID, typ, named.String, children.String)
		}
		return nil
	})
}

func (k *checker) strings(ctx context.Context, q string) ([]string, error) {
	var out []string
	err := k.each(ctx, q, func(rows *sql.Rows) error {
		var v string
		err := rows.Scan(&v)
		out = append(out, v)
		return err
	})
	return out, err
}

// checkPeople: every person's profiles are as their script leaves them.
func (k *checker) checkPeople(ctx context.Context) error {
	k.proves("every person's profiles are as their script leaves them: merged into the older one (a connect case's merge: into the one their sign-in owns) or not at all, the survivor connected to their learning profile or nothing connected, re-bound to the new account or every owner as it was")
	k.proves("no certification was lost or made: each person holds as many as before, a merge collapses the one held twice")
	type profileRow struct {
		status                       string
		mergedInto, connected, owner sql.NullString
		certs, collapsed             int
	}
	profiles := map[string]profileRow{}
	err := k.each(ctx, `SELECT p.id, p.status, p.merged_into_id, p.connected_learning_profile_id, p.owner_account_id,
		(SELECT count(*) FROM certifications c WHERE c.profile_id = p.id),
		(SELECT count(*) FROM certifications c WHERE c.profile_id = p.id AND c.duplicate_of_id IS NOT NULL)
		FROM certification_profiles p`, func(rows *sql.Rows) error {
		var id string
		var p profileRow
		err := rows.Scan(&id, &p.status, &p.mergedInto, &p.connected, &p.owner, &p.certs, &p.collapsed)
		profiles[id] = p
		return err
	})
	if err != nil {
		return err
	}
	accounts := map[string][2]string{} // email → id, status
	err = k.each(ctx, `SELECT email, id, status FROM accounts`, func(rows *sql.Rows) error {
		var email, id, status string
		err := rows.Scan(&email, &id, &status)
		accounts[email] = [2]string{id, status}
		return err
	})
	if err != nil {
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
		// profiles[0] is the one the sign-in owns, profiles[1] the older.
		survivor, source := p.profiles[0], -1
		switch {
		case want.merged && want.intoOwned:
			source = 1
		case want.merged:
			survivor, source = p.profiles[1], 0
		}
		total, collapsed := 0, 0
		for i, id := range p.profiles {
			row := profiles[id]
			total, collapsed = total+row.certs, collapsed+row.collapsed
			switch {
			case i == source && (row.status != certdesk.ProfileMerged || row.mergedInto.String != survivor):
				bad("profile %s is %s, merged into %q; want merged into %s", id, row.status, row.mergedInto.String, survivor)
			case i != source && row.status != certdesk.ProfileActive:
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
// The cooling-off is counted from the last notice (notices_sent), so a
// notice delayed by faults does not shorten it; the shortest is reported,
// and every notice that left less than half the cooling-off is a finding.
func (k *checker) checkNotices(ctx context.Context) error {
	type cooling struct{ from, ends time.Time }
	cases := map[string]cooling{}
	err := k.each(ctx, `SELECT case_id, data->>'ends_at', at FROM case_events WHERE type = 'notices_sent'`, func(rows *sql.Rows) error {
		var id, ends string
		var at time.Time
		if err := rows.Scan(&id, &ends, &at); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, ends)
		cases[id] = cooling{at, t}
		if err != nil {
			return fmt.Errorf("notices_sent of case %s: ends_at %q: %w", id, ends, err)
		}
		return nil
	})
	if err != nil {
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
				"case %s: the \"this wasn't me\" notice %s went out %v before the cooling-off's start: its owner had %v of the %v cooling-off to cancel",
				s.CaseID, s.Step, c.from.Sub(s.At).Round(time.Second), max(left, 0).Round(time.Second), period.Round(time.Second)))
		}
	}
	return nil
}
