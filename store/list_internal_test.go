package store

import (
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// dryRun is a store whose statements are built, never sent: the SQL of a
// query without a database.
func dryRun(tb testing.TB) *Store {
	tb.Helper()
	db, err := gorm.Open(postgres.New(postgres.Config{DSN: "host=127.0.0.1 dbname=unused"}),
		&gorm.Config{DryRun: true, DisableAutomaticPing: true})
	if err != nil {
		tb.Fatal(err)
	}
	return &Store{db: db, dialect: "postgres"}
}

func listSQL(tb testing.TB, s *Store, f CaseFilter) string {
	tb.Helper()
	q, err := s.listQuery(s.db, f)
	if err != nil {
		tb.Fatal(err)
	}
	var rows []certdesk.Case
	return q.Select(caseColumns).Find(&rows).Statement.SQL.String()
}

// Every list the queue and the API can ask for is one keyset query: no
// COUNT, no OFFSET, a LIMIT of one row more than the page.
func TestListQueryNeverCountsOrSkips(t *testing.T) {
	s := dryRun(t)
	yes := true
	cursor := cursorOf(OrderNewest, certdesk.Case{ID: certdesk.NewID()})
	for name, f := range map[string]CaseFilter{
		"first page":   {Limit: 50},
		"deep page":    {Limit: 50, Cursor: cursor},
		"awaiting sla": {Limit: 50, Statuses: []certdesk.Status{certdesk.StatusAwaitingAgent}, Order: OrderSLA, Cursor: cursorOf(OrderSLA, certdesk.Case{ID: certdesk.NewID()})},
		"filters":      {Limit: 20, Kind: certdesk.KindMerge, Assignee: "none", Escalated: &yes, Statuses: []certdesk.Status{certdesk.StatusAwaitingAgent, certdesk.StatusAwaitingLearner}},
		"search":       {Limit: 50, Q: "ana silva"},
		"learner":      {Limit: 50, Learner: &LearnerScope{AccountIDs: []string{certdesk.NewID()}, LearningProfileID: certdesk.NewID()}},
	} {
		sql := strings.ToLower(listSQL(t, s, f))
		if strings.Contains(sql, "count(") || strings.Contains(sql, "offset") {
			t.Errorf("%s: %s", name, sql)
		}
		if !strings.Contains(sql, "limit ") || !strings.Contains(sql, "order by") {
			t.Errorf("%s: no LIMIT or no ORDER BY: %s", name, sql)
		}
	}
}

// BenchmarkListQuery is the building of a deep page's query (filters,
// keyset condition, order), before it goes to the database.
func BenchmarkListQuery(b *testing.B) {
	s := dryRun(b)
	f := CaseFilter{Limit: 50, Statuses: []certdesk.Status{certdesk.StatusAwaitingAgent}, Order: OrderSLA,
		Cursor: cursorOf(OrderSLA, certdesk.Case{ID: certdesk.NewID()})}
	b.ReportAllocs()
	for b.Loop() {
		q, err := s.listQuery(s.db, f)
		if err != nil {
			b.Fatal(err)
		}
		var rows []certdesk.Case
		if q.Find(&rows).Statement.SQL.Len() == 0 {
			b.Fatal("no statement")
		}
	}
}
