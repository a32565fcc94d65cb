package store_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// CountCases counts what a filter selects, beyond one page, on each dialect.
func TestCountCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		open := func(kind certdesk.Kind, status certdesk.Status, assignee *string) {
			t.Helper()
			c := certdesk.Case{ID: certdesk.NewID(), Kind: kind, Requester: certdesk.ActorSystem, WorkflowID: "wf-" + certdesk.NewID()}
			if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: c.ID, Status: status, Assignee: assignee,
				Event: store.Event{Actor: certdesk.ActorSystem, Type: "test"}}); err != nil {
				t.Fatal(err)
			}
		}
		agents, err := s.Agents(ctx, "")
		if err != nil || len(agents) == 0 {
			t.Fatalf("agents: %v %v", agents, err)
		}
		alice := agents[0].ID
		for range 3 {
			open(certdesk.KindMerge, certdesk.StatusAwaitingAgent, nil)
		}
		open(certdesk.KindMerge, certdesk.StatusAwaitingAgent, &alice)
		open(certdesk.KindConnect, certdesk.StatusAwaitingLearner, &alice)
		open(certdesk.KindRecovery, certdesk.StatusCompleted, nil)

		for _, tc := range []struct {
			name string
			f    store.CaseFilter
			want int64
		}{
			{"all", store.CaseFilter{}, 6},
			{"beyond one page", store.CaseFilter{Limit: 2}, 6},
			{"awaiting agent", store.CaseFilter{Statuses: []certdesk.Status{certdesk.StatusAwaitingAgent}}, 4},
			{"unassigned and open", store.CaseFilter{Assignee: "none", Statuses: []certdesk.Status{certdesk.StatusAwaitingAgent, certdesk.StatusAwaitingLearner}}, 3},
			{"mine", store.CaseFilter{Assignee: alice}, 2},
			{"merges", store.CaseFilter{Kind: certdesk.KindMerge}, 4},
			{"by SLA", store.CaseFilter{Order: store.OrderSLA}, 6},
		} {
			n, err := s.CountCases(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if n != tc.want {
				t.Errorf("%s: %d cases, want %d", tc.name, n, tc.want)
			}
		}
		if _, err := s.CountCases(ctx, store.CaseFilter{Order: "sideways"}); certdesk.ErrorCode(err) != certdesk.EINVALID {
			t.Errorf("a bad order: %v", err)
		}
	})
}
