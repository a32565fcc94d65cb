package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// Supervisors see the webhook subscribers with their health and an event's
// delivery log, and send an event again; nobody else sees or re-sends.
func TestConsoleWebhooksPages(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	ctx := context.Background()
	sub, err := h.store.CreateSubscriber(ctx, "https://lms.example.com/hooks", []string{"case.*"}, "whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
	if err != nil {
		t.Fatal(err)
	}
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "w-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
		t.Fatal(err)
	}
	evs, err := h.store.DomainEvents(ctx, store.EventFilter{Type: certdesk.EventCaseOpened})
	if err != nil || len(evs) == 0 {
		t.Fatalf("case.opened: %v %v", evs, err)
	}
	ev := evs[len(evs)-1]
	sam, alice, learner := h.login("sam.supervisor@certdesk.example"), h.login("alice.agent@certdesk.example"), h.login("ana.silva@outlook.example")

	page := h.do("GET", "/console/webhooks", sam, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("webhooks page = %d %s", page.Code, page.Body)
	}
	for _, want := range []string{"https://lms.example.com/hooks", sub.ID, "case.*", "/console/webhooks/events/" + ev.ID} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("webhooks page lacks %q", want)
		}
	}
	if strings.Contains(string(page.Body), "whsec_") {
		t.Error("the page shows a secret")
	}
	log := h.do("GET", "/console/webhooks/events/"+ev.ID, sam, nil)
	if log.Code != http.StatusOK || !strings.Contains(string(log.Body), c.ID) || !strings.Contains(string(log.Body), "not attempted") {
		t.Fatalf("event page = %d, want the event's data and its pending delivery: %s", log.Code, log.Body)
	}
	if r := h.do("GET", "/console/webhooks/events/evt_nope", sam, nil); r.Code != http.StatusNotFound {
		t.Errorf("an unknown event's page = %d, want 404", r.Code)
	}
	for _, who := range []string{alice, learner, ""} {
		for _, path := range []string{"/console/webhooks", "/console/webhooks/events/" + ev.ID} {
			if r := h.do("GET", path, who, nil); r.Code == http.StatusOK {
				t.Errorf("%s answered 200 to a non-supervisor", path)
			}
		}
		if r := h.do("POST", "/console/webhooks/events/"+ev.ID+"/resend", who, stacktest.Form{"subscriber": {sub.ID}}); strings.Contains(r.Header.Get("Location"), "done=resent") {
			t.Errorf("a non-supervisor re-sent an event")
		}
	}

	// Delivered, then sent again by Sam: pending once more.
	if err := h.store.RecordAttempts(ctx, []store.Attempt{{SubscriberID: sub.ID, EventSeq: ev.Seq, EventID: ev.ID, Attempt: 1, At: ev.CreatedAt, StatusCode: 204, Outcome: store.OutcomeDelivered}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := h.store.PendingDeliveries(ctx, sub.ID, 10); len(p) != 0 {
		t.Fatalf("%d pending after delivery", len(p))
	}
	r := h.do("POST", "/console/webhooks/events/"+ev.ID+"/resend", sam, stacktest.Form{"subscriber": {sub.ID}})
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/console/webhooks/events/"+ev.ID+"?done=resent" {
		t.Fatalf("resend = %d %s %s", r.Code, r.Header.Get("Location"), r.Body)
	}
	if p, _ := h.store.PendingDeliveries(ctx, sub.ID, 10); len(p) != 1 || p[0].Event.ID != ev.ID {
		t.Errorf("pending after the re-send: %+v", p)
	}
	if r := h.do("POST", "/console/webhooks/events/"+ev.ID+"/resend", sam, stacktest.Form{"subscriber": {"whsub_nope"}}); r.Code != http.StatusNotFound {
		t.Errorf("re-send to an unknown subscriber = %d, want 404", r.Code)
	}
}
