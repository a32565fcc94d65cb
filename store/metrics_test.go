package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The figures the worker's /metrics reports: open cases by kind, status,
// escalation and SLA (ended cases not at all), emails by kind and status,
// used links by purpose, webhook deliveries by status; on each dialect.
func TestFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		sub := evSubscriber(t, s, "case.*")
		empty, err := s.Figures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(empty.OpenCases)+len(empty.Emails)+len(empty.LinksUsed)+len(empty.Deliveries) != 0 {
			t.Fatalf("figures of a store without cases = %+v", empty)
		}

		past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		yes := true
		change := func(c certdesk.Case, ch store.Change) {
			t.Helper()
			ch.CaseID, ch.Event = c.ID, store.Event{Actor: certdesk.ActorSystem, Type: "test"}
			if _, _, err := s.ChangeCase(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		open := func(kind certdesk.Kind) certdesk.Case {
			t.Helper()
			c := certdesk.Case{ID: certdesk.NewID(), Kind: kind, Requester: certdesk.ActorSystem, WorkflowID: "wf-" + certdesk.NewID()}
			if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		open(certdesk.KindConnect)
		waiting := open(certdesk.KindConnect)
		change(waiting, store.Change{Status: certdesk.StatusAwaitingLearner})
		breached := open(certdesk.KindMerge)
		change(breached, store.Change{Status: certdesk.StatusAwaitingAgent, SLADueAt: &past, Escalated: &yes})
		onTime := open(certdesk.KindMerge)
		change(onTime, store.Change{Status: certdesk.StatusAwaitingAgent, SLADueAt: &future})
		ended := open(certdesk.KindRecovery)
		change(ended, store.Change{Status: certdesk.StatusCompleted, Escalated: &yes, SLADueAt: &past})

		for i, st := range []string{store.EmailSent, store.EmailSent, store.EmailBounced, store.EmailFailed} {
			kind := "connect_done"
			if i == 3 {
				kind = "merge_done"
			}
			e := store.Email{CaseID: waiting.ID, Step: "s" + string(rune('a'+i)), Kind: kind, ToAddr: "ana.silva@outlook.example", Status: st}
			if err := s.CreateEmail(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		_, used := issue(t, s, waiting.ID, "verify", time.Hour)
		if _, err := s.ConsumeLinkToken(ctx, used.Hash, func(store.LinkToken) error { return nil }); err != nil {
			t.Fatal(err)
		}
		issue(t, s, waiting.ID, "other", time.Hour) // not used: not counted

		ds, err := s.PendingDeliveries(ctx, sub.ID, 100)
		if err != nil || len(ds) < 2 {
			t.Fatalf("pending deliveries = %d, %v", len(ds), err)
		}
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: ds[0].Event.Seq, EventID: ds[0].Event.ID, Attempt: 1,
			At: time.Now(), StatusCode: 204, Outcome: store.OutcomeDelivered})

		f, err := s.Figures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantOpen := []store.OpenCases{
			{Kind: certdesk.KindConnect, Status: certdesk.StatusAwaitingLearner, N: 1},
			{Kind: certdesk.KindConnect, Status: certdesk.StatusOpen, N: 1},
			{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, N: 1},
			{Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Escalated: true, PastSLA: true, N: 1},
		}
		if !slices.Equal(f.OpenCases, wantOpen) {
			t.Errorf("open cases = %+v\nwant %+v", f.OpenCases, wantOpen)
		}
		wantEmails := []store.EmailCount{{"connect_done", store.EmailBounced, 1}, {"connect_done", store.EmailSent, 2}, {"merge_done", store.EmailFailed, 1}}
		if !slices.Equal(f.Emails, wantEmails) {
			t.Errorf("emails = %+v, want %+v", f.Emails, wantEmails)
		}
		if want := []store.LinkCount{{"test", 1}}; !slices.Equal(f.LinksUsed, want) {
			t.Errorf("links used = %+v, want %+v", f.LinksUsed, want)
		}
		// Five cases opened (five events) and one ended: six deliveries.
		want := []store.DeliveryCount{{store.DeliveryDelivered, 1}, {store.DeliveryPending, int64(len(ds) - 1)}}
		if !slices.Equal(f.Deliveries, want) || len(ds) != 6 {
			t.Errorf("deliveries = %+v of %d, want %+v of 6", f.Deliveries, len(ds), want)
		}
	})
}
