package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

func TestMigrateFromEmptyThenAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s, err := store.Open(ctx, storetest.URL(t, dialect))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, err := s.SchemaVersion(ctx); err == nil && v != 0 {
			t.Fatalf("new database at schema version %d", v)
		}
		first, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("first migrate: %v", err)
		}
		if len(first.Applied) == 0 || first.Applied[0] != "0001_init" {
			t.Fatalf("first migrate applied %v, want 0001_init first", first.Applied)
		}
		tables := schemaOf(t, s)
		second, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if len(second.Applied) != 0 || second.Version != first.Version {
			t.Fatalf("second migrate applied %v (version %d), want nothing at %d", second.Applied, second.Version, first.Version)
		}
		if again := schemaOf(t, s); again != tables {
			t.Fatalf("schema changed on the second run:\n%s\nvs\n%s", tables, again)
		}
		for _, want := range []string{"accounts", "certification_profiles", "cases", "case_events", "link_tokens", "emails", "schema_migrations"} {
			if !strings.Contains(tables, want+".") {
				t.Errorf("table %s missing after migrate", want)
			}
		}
	})
}

// schemaOf lists table.column pairs, to compare schemas.
func schemaOf(t *testing.T, s *store.Store) string {
	t.Helper()
	q := `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`
	if s.Dialect() == "sqlite" {
		q = `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1`
	}
	rows, err := s.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, "\n")
}

func TestSeedIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		empty, err := s.Empty(ctx)
		if err != nil || !empty {
			t.Fatalf("Empty() = %v, %v on a new store", empty, err)
		}
		first, err := s.Seed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first.Inserted == 0 {
			t.Fatal("seed inserted nothing")
		}
		second, err := s.Seed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if second.Inserted != 0 {
			t.Fatalf("second seed inserted %d rows", second.Inserted)
		}
		// The design's table, person by person.
		ben, err := s.Learner(ctx, store.DemoID("account:ben.okafor@contoso.example"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ben.Accounts) != 1 || ben.Accounts[0].Kind != certdesk.AccountWork {
			t.Errorf("Ben's learning profile accounts = %+v, want only his work account", ben.Accounts)
		}
		if len(ben.CertificationProfiles) != 0 {
			t.Errorf("Ben sees profiles %+v before adding his personal account", ben.CertificationProfiles)
		}
		chen, err := s.Learner(ctx, store.DemoID("account:chen.wei@outlook.example"))
		if err != nil {
			t.Fatal(err)
		}
		if len(chen.CertificationProfiles) != 1 || chen.CertificationProfiles[0].MCID != "100003" {
			t.Errorf("Chen owns %+v through his learning profile, want 100003", chen.CertificationProfiles)
		}
		dup, err := s.CertificationProfileByMCID(ctx, "100004")
		if err != nil {
			t.Fatal(err)
		}
		if dup.Email != "chen.wei@outlook.example" || dup.LegalName != "Chen Wei" {
			t.Errorf("100004 = %+v, want Chen's duplicate with his outlook email", dup)
		}
		dara, err := s.AccountByEmail(ctx, "DARA.MURPHY@outlook.example ")
		if err != nil {
			t.Fatal(err)
		}
		if dara.Status != certdesk.AccountInactive || dara.LastSignInAt == nil || time.Since(*dara.LastSignInAt) < 2*365*24*time.Hour {
			t.Errorf("Dara = %+v, want inactive, last sign-in years ago", dara)
		}
		certs, err := s.Certifications(ctx, dup.ID)
		if err != nil || len(certs) == 0 {
			t.Fatalf("100004 certifications = %v, %v", certs, err)
		}
		sam, err := s.AgentByEmail(ctx, "sam.supervisor@certdesk.example")
		if err != nil || sam.Role != certdesk.RoleSupervisor {
			t.Fatalf("Sam = %+v, %v", sam, err)
		}
	})
}

// Each rule of the design that the database holds, broken on purpose: the
// store must answer with a domain conflict, not a driver error.
func TestInvariantsAreConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		chen := store.DemoID("lp:chen")
		p1 := store.DemoID("profile:100001")
		p3 := store.DemoID("profile:100003")
		p4 := store.DemoID("profile:100004")
		cases := []struct {
			name string
			do   func() error
		}{
			{"unique MCID", func() error {
				return s.CreateCertificationProfile(ctx, &certdesk.CertificationProfile{MCID: "100001", LegalName: "X", Email: "x@x.example"})
			}},
			{"one connected profile per learning profile", func() error {
				if err := s.SetConnectedLearningProfile(ctx, p3, chen); err != nil {
					t.Fatalf("first connection: %v", err)
				}
				return s.SetConnectedLearningProfile(ctx, p4, chen)
			}},
			{"unique account email", func() error {
				return s.CreateAccount(ctx, &certdesk.Account{Email: "Ana.Silva@outlook.example", Kind: certdesk.AccountPersonal})
			}},
			{"one email per case step", func() error {
				c := openCase(t, s)
				if err := s.CreateEmail(ctx, &store.Email{CaseID: c.ID, Step: "verify", Kind: "x", ToAddr: "a@b.example"}); err != nil {
					t.Fatalf("first email: %v", err)
				}
				return s.CreateEmail(ctx, &store.Email{CaseID: c.ID, Step: "verify", Kind: "x", ToAddr: "a@b.example"})
			}},
		}
		for _, tc := range cases {
			err := tc.do()
			if !errors.Is(err, certdesk.ErrConflict) {
				t.Errorf("%s: got %v (code %q), want a conflict", tc.name, err, certdesk.ErrorCode(err))
				continue
			}
			if msg := certdesk.ErrorMessage(err); strings.Contains(msg, "SQLSTATE") || strings.Contains(msg, "constraint failed") {
				t.Errorf("%s: message %q leaks the driver's text", tc.name, msg)
			}
		}
		// A profile stays connected to one learning profile only: the
		// column holds one value, and the unique index one profile each.
		if err := s.SetConnectedLearningProfile(ctx, p1, chen); !errors.Is(err, certdesk.ErrConflict) {
			t.Errorf("connecting a second profile to Chen's learning profile: %v, want conflict", err)
		}
	})
}

func openCase(t *testing.T, s *store.Store) certdesk.Case {
	t.Helper()
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: certdesk.ActorSystem, WorkflowID: "wf-" + certdesk.NewID()}
	if _, err := s.OpenCase(context.Background(), &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChangeCaseIsIdempotentPerWorkflowStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		c := openCase(t, s)
		again := c
		created, err := s.OpenCase(ctx, &again, store.Event{Actor: certdesk.ActorSystem, Type: "opened"})
		if err != nil || created {
			t.Fatalf("second OpenCase = %v, %v; want existing case", created, err)
		}
		ch := store.Change{CaseID: c.ID, WorkflowStep: 2, Status: certdesk.StatusAwaitingLearner,
			Event: store.Event{Actor: certdesk.ActorSystem, Type: "awaiting_learner", Data: map[string]string{"why": "test"}}}
		got, applied, err := s.ChangeCase(ctx, ch)
		if err != nil || !applied || got.Version != 2 || got.Status != certdesk.StatusAwaitingLearner {
			t.Fatalf("first change = %+v, %v, %v", got, applied, err)
		}
		got, applied, err = s.ChangeCase(ctx, ch) // a retried activity
		if err != nil || applied || got.Version != 2 {
			t.Fatalf("retried change = version %d, applied %v, %v; want no-op", got.Version, applied, err)
		}
		done := certdesk.StatusCompleted
		got, _, err = s.ChangeCase(ctx, store.Change{CaseID: c.ID, WorkflowStep: 3, Status: done, Resolution: "connected",
			Event: store.Event{Actor: certdesk.ActorSystem, Type: "completed"}})
		if err != nil || got.ClosedAt == nil || got.Resolution != "connected" {
			t.Fatalf("completing: %+v, %v", got, err)
		}
		_, _, err = s.ChangeCase(ctx, store.Change{CaseID: c.ID, ExpectVersion: 2, Event: store.Event{Actor: certdesk.ActorSystem, Type: "note"}})
		if !errors.Is(err, certdesk.ErrConflict) {
			t.Fatalf("stale change: %v, want conflict", err)
		}
		evs, err := s.Events(ctx, c.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d: the timeline has a gap", i, e.Seq)
			}
			types = append(types, string(e.Type))
		}
		if strings.Join(types, ",") != "opened,awaiting_learner,completed" {
			t.Errorf("timeline = %v", types)
		}
	})
}

func TestListCasesKeyset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		var ids []string
		for i := 0; i < 7; i++ {
			c := openCase(t, s)
			ids = append([]string{c.ID}, ids...) // newest first
			time.Sleep(2 * time.Millisecond)     // distinct id timestamps
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			page, err := s.ListCases(ctx, store.CaseFilter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Fatalf("pages = %v, want %v", got, ids)
		}
		if _, err := s.ListCases(ctx, store.CaseFilter{Cursor: "%%%"}); certdesk.ErrorCode(err) != certdesk.EINVALID {
			t.Fatalf("bad cursor: %v, want invalid", err)
		}
	})
}

// A database that drops or refuses connections is "unavailable" (503, try
// again), not an internal error.
func TestDroppedDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s := storetest.Seeded(t, "postgres")
	var name string
	if err := s.SQL().QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", storetest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{"ALTER DATABASE " + name + " ALLOW_CONNECTIONS false",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'"} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	defer admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	_, err = s.Agents(ctx, "")
	if code := certdesk.ErrorCode(err); code != certdesk.EUNAVAILABLE {
		t.Fatalf("a query with the database gone: %v (code %q), want unavailable", err, code)
	}
}

// The list reads a case field by field: what it reads is what Case reads.
func TestListCasesReadsEveryField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		c := openCase(t, s)
		page, err := s.ListCases(ctx, store.CaseFilter{Q: c.ID})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("list: %v %v", page.Items, err)
		}
		want, err := s.Case(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(page.Items[0])
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) || !slices.Equal(page.Items[0].ProfileIDs, want.ProfileIDs) || !slices.Equal(page.Items[0].MCIDs, want.MCIDs) ||
			page.Items[0].WorkflowStep != want.WorkflowStep {
			t.Fatalf("listed\n%s\nwant\n%s", got, exp)
		}
	})
}
