package store_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A case's short reference is stored when it opens, and the list's search
// finds the case by it, whatever its case.
func TestSearchByReference(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, dialect string) {
		{
			st := storetest.Seeded(t, dialect)
			cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindInquiry, Requester: certdesk.ActorSystem, Subject: "a question", LearnerName: "Ana", WorkflowID: "wf-ref"}
			if _, err := st.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{certdesk.Reference(cs.ID), "cd-" + cs.ID[21:]} {
				page, err := st.ListCases(ctx, store.CaseFilter{Q: q, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) != 1 || page.Items[0].ID != cs.ID {
					t.Errorf("search %q: %d cases, want the one case %s", q, len(page.Items), cs.ID)
				}
			}
		}
	})
}
