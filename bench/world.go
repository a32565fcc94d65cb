package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certdesk/certdesk"
)

// The bench's people are made in bulk with COPY: thousands of learners in
// a second or two, where one row at a time through the store would take
// minutes. Each shape is one of the demo people's, with addresses and an
// MCID of its own.
type shape int

const (
	// shapeAna: one personal account on her learning profile, her profile
	// under the same address: a connect case that needs no human.
	shapeAna shape = iota
	// shapeBen: signs in with a work account; his profile belongs to a
	// personal account not yet on his learning profile: the connect case
	// emails him a link and waits.
	shapeBen
	// shapePair: two profiles of one person (same name and address, two
	// owner accounts): a merge case between them waits for an agent.
	shapePair
)

// person is one generated learner.
type person struct {
	signIn   string   // the address they sign in with
	lp       string   // their learning profile
	personal string   // Ben: the personal account, not on the learning profile
	profiles []string // their certification profiles
}

// letters spells n in letters, so names stay names ("Ana Bench Qdx").
func letters(n int) string {
	b := []byte{'A' + byte(n%26)}
	for n /= 26; n > 0; n /= 26 {
		b = append(b, 'a'+byte(n%26))
	}
	return string(b)
}

// makePeople loads n people of a shape, numbered from `from` (so that two
// calls in one run do not collide on addresses or MCIDs).
func makePeople(ctx context.Context, pg *pgxpool.Pool, sh shape, from, n int) ([]person, error) {
	now := time.Now().UTC()
	recent := now.Add(-72 * time.Hour)
	var lps, accounts, profiles [][]any
	people := make([]person, n)
	for i := range n {
		k := from + i
		name := fmt.Sprintf("%s Bench %s", []string{"Ana", "Ben", "Chen"}[sh], letters(k))
		p := person{lp: certdesk.NewID()}
		lps = append(lps, []any{p.lp, name, now.AddDate(-2, 0, 0)})
		account := func(email, kind string, lp *string) string {
			id := certdesk.NewID()
			accounts = append(accounts, []any{id, email, kind, name, "active", recent, lp, now.AddDate(-3, 0, 0)})
			return id
		}
		profile := func(email, owner string, mcid int) {
			id := certdesk.NewID()
			profiles = append(profiles, []any{id, fmt.Sprint(mcid), name, email, owner, "active", now.AddDate(-2, 0, 0), now})
			p.profiles = append(p.profiles, id)
		}
		switch sh {
		case shapeAna:
			p.signIn = fmt.Sprintf("ana.%d@outlook.example", k)
			profile(p.signIn, account(p.signIn, "personal", &p.lp), 10_000_000+k)
		case shapeBen:
			p.signIn, p.personal = fmt.Sprintf("ben.%d@contoso.example", k), fmt.Sprintf("ben.%d@hotmail.example", k)
			account(p.signIn, "work", &p.lp)
			profile(p.personal, account(p.personal, "personal", nil), 20_000_000+k)
		case shapePair:
			p.signIn = fmt.Sprintf("chen.%d@outlook.example", k)
			profile(p.signIn, account(p.signIn, "personal", &p.lp), 30_000_000+k)
			profile(p.signIn, account(fmt.Sprintf("c.%d@gmail.example", k), "personal", nil), 40_000_000+k)
		}
		people[i] = p
	}
	tx, err := pg.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"learning_profiles", []string{"id", "display_name", "created_at"}, lps},
		{"accounts", []string{"id", "email", "kind", "display_name", "status", "last_sign_in_at", "learning_profile_id", "created_at"}, accounts},
		{"certification_profiles", []string{"id", "mcid", "legal_name", "email", "owner_account_id", "status", "created_at", "updated_at"}, profiles},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.table, err)
		}
	}
	return people, tx.Commit(ctx)
}

// loadCases fills the cases table with n closed and open cases, their ids
// and creation times spread over the past year as if they had arrived one
// every half minute, in batches through COPY.
func loadCases(ctx context.Context, pg *pgxpool.Pool, n int) error {
	const batch = 50_000
	now := time.Now().UTC()
	kinds := []string{"connect", "connect", "connect", "merge", "recovery"}
	statuses := []string{"completed", "completed", "completed", "rejected", "awaiting_agent", "awaiting_learner", "expired", "completed"}
	cols := []string{"id", "kind", "status", "resolution", "subject", "learner_name", "learner_email", "profile_ids", "mcids",
		"requester", "sla_due_at", "workflow_id", "version", "workflow_step", "details", "created_at", "updated_at", "closed_at"}
	for start := 0; start < n; start += batch {
		rows := make([][]any, 0, min(batch, n-start))
		for i := start; i < min(start+batch, n); i++ {
			at := now.Add(-time.Duration(n-i) * 30 * time.Second)
			id := certdesk.IDAt(at)
			kind, status := kinds[i%len(kinds)], statuses[i%len(statuses)]
			name := "Learner " + letters(i)
			email := fmt.Sprintf("learner.%d@example.org", i)
			var sla, closed any
			if status == "awaiting_agent" || status == "awaiting_learner" {
				sla = at.Add(48 * time.Hour)
			} else {
				closed = at.Add(time.Hour)
			}
			rows = append(rows, []any{id, kind, status, "", kind + ": " + name, name, email, "", fmt.Sprint(50_000_000 + i),
				"system:bench", sla, id, int64(3), int64(3), []byte(`{}`), at, at, closed})
		}
		if _, err := pg.CopyFrom(ctx, pgx.Identifier{"cases"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("load cases: %w", err)
		}
	}
	_, err := pg.Exec(ctx, "ANALYZE cases")
	return err
}
