package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// addAccount creates an active personal account last signed in at a time
// (nil: never, since it was created then).
func createAccount(t *testing.T, s *store.Store, email string, created time.Time, signedIn *time.Time) certdesk.Account {
	t.Helper()
	a := certdesk.Account{Email: email, Kind: certdesk.AccountPersonal, DisplayName: email, CreatedAt: created, LastSignInAt: signedIn}
	if err := s.CreateAccount(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func ptr[T any](v T) *T { return &v }

func noticeKinds(t *testing.T, s *store.Store, accountID string) []string {
	t.Helper()
	ns, err := s.NoticesOf(context.Background(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Kind)
	}
	return out
}

func TestSweepSelection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		now := time.Now().UTC().Truncate(time.Second)
		w := store.SweepWindow{AsOf: now, RemindMonths: 23, InactiveMonths: 24}
		months := func(m int, extra time.Duration) time.Time { return now.AddDate(0, -m, 0).Add(extra) }
		day := 24 * time.Hour

		remind1 := createAccount(t, s, "remind1@outlook.example", months(40, 0), ptr(months(23, -day)))
		remind2 := createAccount(t, s, "remind2@outlook.example", months(23, -2*day), nil) // never signed in
		recent := createAccount(t, s, "recent@outlook.example", months(40, 0), ptr(months(22, 0)))
		old := createAccount(t, s, "old@outlook.example", months(40, 0), ptr(months(24, -day)))
		reactivated := createAccount(t, s, "reactivated@outlook.example", months(40, 0), ptr(months(30, 0)))
		if _, err := s.SQL().Exec(`UPDATE accounts SET reactivated_at = $1 WHERE id = $2`, months(1, 0), reactivated.ID); err != nil {
			t.Fatal(err)
		}

		// Pages of one: each call queues one, then none are left.
		for i, want := range []int{1, 1, 0} {
			n, err := s.QueueReminders(ctx, w, 1)
			if err != nil || n != want {
				t.Fatalf("reminder page %d: %d, %v; want %d", i, n, err, want)
			}
		}
		for _, a := range []certdesk.Account{remind1, remind2} {
			if got := noticeKinds(t, s, a.ID); !slices.Equal(got, []string{store.NoticeReminder}) {
				t.Errorf("%s notices %q, want one reminder", a.Email, got)
			}
		}
		for _, a := range []certdesk.Account{recent, old, reactivated} {
			if got := noticeKinds(t, s, a.ID); len(got) != 0 {
				t.Errorf("%s was reminded: %q", a.Email, got)
			}
		}
		// The next day's sweep reminds nobody again for the same period.
		next := w
		next.AsOf = now.Add(day)
		if n, err := s.QueueReminders(ctx, next, 10); err != nil || n != 0 {
			t.Fatalf("next day's reminders: %d, %v; want none", n, err)
		}

		n, err := s.QueueInactivations(ctx, w, 10)
		if err != nil || n != 1 {
			t.Fatalf("inactivations: %d, %v; want old@ only (Dara is inactive already)", n, err)
		}
		if a, _ := s.Account(ctx, old.ID); a.Status != certdesk.AccountInactive {
			t.Errorf("old@ is %s, want inactive", a.Status)
		}
		if got := noticeKinds(t, s, old.ID); !slices.Equal(got, []string{store.NoticeInactive}) {
			t.Errorf("old@ notices %q", got)
		}
		if n, _ := s.QueueInactivations(ctx, next, 10); n != 0 {
			t.Errorf("second inactivation run made %d inactive", n)
		}

		// A sign-in starts a new period: 23 months after it, a new reminder.
		signIn := now.Add(2 * day)
		if _, err := s.RecordSignIn(ctx, "Remind1@Outlook.example", signIn); err != nil {
			t.Fatal(err)
		}
		later := store.SweepWindow{AsOf: signIn.AddDate(0, 23, 1), RemindMonths: 23, InactiveMonths: 24}
		if _, err := s.QueueReminders(ctx, later, 10); err != nil {
			t.Fatal(err)
		}
		if got := noticeKinds(t, s, remind1.ID); !slices.Equal(got, []string{store.NoticeReminder, store.NoticeReminder}) {
			t.Errorf("after a sign-in and 23 months: notices %q, want a second reminder", got)
		}

		// The outbox: every notice pending until done, with its step.
		// (The demo world's recent accounts got reminders in that later
		// window too; only this test's accounts are counted.)
		mine := func() []store.AccountNotice {
			all, err := s.PendingNotices(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			return slices.DeleteFunc(all, func(n store.AccountNotice) bool {
				return n.AccountID != remind1.ID && n.AccountID != remind2.ID && n.AccountID != old.ID
			})
		}
		pending := mine()
		if len(pending) != 4 {
			t.Fatalf("pending notices: %d, want 4", len(pending))
		}
		first := pending[0]
		if first.EmailKey() != "account:"+first.AccountID || first.Step() != first.Kind+":"+first.PeriodAt.UTC().Format(time.RFC3339) {
			t.Errorf("notice key %s step %s", first.EmailKey(), first.Step())
		}
		if want := first.PeriodAt.AddDate(0, 24, 0); !first.InactiveOn.Equal(want) {
			t.Errorf("inactive_on %v, want %v", first.InactiveOn, want)
		}
		if err := s.NoticeDone(ctx, first, now); err != nil {
			t.Fatal(err)
		}
		if pending := mine(); len(pending) != 3 {
			t.Errorf("after one done: %d pending, want 3", len(pending))
		}
	})
}

func TestRecordSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		ana, _ := s.AccountByEmail(ctx, "ana.silva@outlook.example")
		at := time.Now().UTC().Truncate(time.Second)

		a, err := s.RecordSignIn(ctx, "ana.silva@outlook.example", at)
		if err != nil || a.LastSignInAt == nil || !a.LastSignInAt.Equal(at) {
			t.Fatalf("sign-in: %+v, %v", a, err)
		}
		// A late event from before the last sign-in does not move it back.
		if a, err := s.RecordSignIn(ctx, "ana.silva@outlook.example", ana.LastSignInAt.Add(-time.Hour)); err != nil || !a.LastSignInAt.Equal(at) {
			t.Errorf("older sign-in: %v, %v; want %v kept", a.LastSignInAt, err, at)
		}
		_, err = s.RecordSignIn(ctx, "dara.murphy@outlook.example", at)
		if !errors.Is(err, certdesk.ErrConflict) {
			t.Errorf("sign-in on the inactive account: %v, want a conflict", err)
		}
		if dara, _ := s.AccountByEmail(ctx, "dara.murphy@outlook.example"); dara.Status != certdesk.AccountInactive || dara.LastSignInAt.After(at.AddDate(-1, 0, 0)) {
			t.Errorf("the refused sign-in changed Dara's account: %+v", dara)
		}
		if _, err := s.RecordSignIn(ctx, "nobody@outlook.example", at); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("unknown account: %v, want not found", err)
		}
	})
}

// A run's pages walk the accounts once, by last activity then id, each page
// after the one before it; on PostgreSQL each page is a range of the
// sweep's index, not a read of the whole table.
func TestSweepPagesWalkTheAccountsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		now := time.Now().UTC().Truncate(time.Second)
		day := 24 * time.Hour
		for i := range 7 {
			createAccount(t, s, "unused"+string(rune('a'+i))+"@outlook.example", now.AddDate(-3, 0, 0).Add(time.Duration(i%3)*day), nil)
		}
		for i := range 5 {
			createAccount(t, s, "remind"+string(rune('a'+i))+"@outlook.example", now.AddDate(0, -23, 0).Add(-time.Duration(i%2+1)*day), nil)
		}
		w := store.SweepWindow{AsOf: now, RemindMonths: 23, InactiveMonths: 24, After: &store.SweepCursor{}}
		var pages []int
		for {
			n, err := s.QueueInactivations(ctx, w, 2)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			pages = append(pages, n)
		}
		if !slices.Equal(pages, []int{2, 2, 2, 1}) {
			t.Errorf("inactivation pages %v, want [2 2 2 1]", pages)
		}
		w.After = &store.SweepCursor{}
		pages = pages[:0]
		for {
			n, err := s.QueueReminders(ctx, w, 2)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			pages = append(pages, n)
		}
		if !slices.Equal(pages, []int{2, 2, 1}) {
			t.Errorf("reminder pages %v, want [2 2 1]", pages)
		}
		if dialect != "postgres" {
			return
		}
		// The page's query can be answered from the index (with sequential
		// scans off, the plan names it: its expression is the query's).
		conn, err := s.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		var plan []string
		rows, err := conn.QueryContext(ctx, `EXPLAIN SELECT id FROM accounts WHERE status = 'active'
			AND (GREATEST(accounts.last_sign_in_at, accounts.reactivated_at, accounts.created_at), accounts.id) > ($1, $2)
			AND GREATEST(accounts.last_sign_in_at, accounts.reactivated_at, accounts.created_at) <= $3
			ORDER BY GREATEST(accounts.last_sign_in_at, accounts.reactivated_at, accounts.created_at), accounts.id LIMIT 500`, now.AddDate(-5, 0, 0), "", now)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		if !slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, "accounts_active_by_last_active") }) ||
			slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, "Sort") }) {
			t.Errorf("the sweep's page does not read its index in order:\n%s", strings.Join(plan, "\n"))
		}
	})
}
