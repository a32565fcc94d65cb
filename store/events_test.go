package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The outbox of domain events, their deliveries to webhook subscribers, the
// record of attempts, replays and secret rotation; on each dialect.

// evClock is a store's clock that the test moves.
type evClock struct {
	mu  sync.Mutex
	now time.Time
}

// evClockOf sets a store's clock to a whole second (both databases keep it
// exactly) and returns it.
func evClockOf(s *store.Store) *evClock {
	c := &evClock{now: time.Now().UTC().Truncate(time.Second)}
	s.Now = c.Now
	return c
}

func (c *evClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *evClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// evSecret is a signing secret as webhook.NewSecret makes them.
func evSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func evSubscriber(t *testing.T, s *store.Store, patterns ...string) store.Subscriber {
	t.Helper()
	sub, err := s.CreateSubscriber(context.Background(), "https://hooks.example.com/"+certdesk.NewID(), patterns, evSecret())
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != store.SubscriberActive || !slices.Equal(sub.Events, patterns) || !strings.HasPrefix(sub.ID, "whsub_") {
		t.Fatalf("CreateSubscriber = %+v", sub)
	}
	return sub
}

func evGetSubscriber(t *testing.T, s *store.Store, id string) store.Subscriber {
	t.Helper()
	sub, err := s.Subscriber(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func evPending(t *testing.T, s *store.Store, subID string) []store.Delivery {
	t.Helper()
	ds, err := s.PendingDeliveries(context.Background(), subID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// evPendingIDs is the event ids of a subscriber's pending deliveries, in
// their order.
func evPendingIDs(t *testing.T, s *store.Store, subID string) []string {
	t.Helper()
	var ids []string
	for _, d := range evPending(t, s, subID) {
		ids = append(ids, d.Event.ID)
	}
	return ids
}

func evEvents(t *testing.T, s *store.Store, f store.EventFilter) []certdesk.DomainEvent {
	t.Helper()
	evs, err := s.DomainEvents(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func evIDs(evs []certdesk.DomainEvent) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	return ids
}

// evOneEvent is the one event of a type; it fails unless there is exactly one.
func evOneEvent(t *testing.T, s *store.Store, typ certdesk.DomainEventType) certdesk.DomainEvent {
	t.Helper()
	evs := evEvents(t, s, store.EventFilter{Type: typ})
	if len(evs) != 1 {
		t.Fatalf("%d %s events, want 1: %+v", len(evs), typ, evs)
	}
	return evs[0]
}

func evOpenCase(t *testing.T, s *store.Store, mcids ...string) certdesk.Case {
	t.Helper()
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: certdesk.ActorSystem,
		WorkflowID: "wf-" + certdesk.NewID(), MCIDs: mcids}
	created, err := s.OpenCase(context.Background(), &c, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened})
	if err != nil || !created {
		t.Fatalf("OpenCase = %v, %v", created, err)
	}
	return c
}

func evEndCase(t *testing.T, s *store.Store, id string, step int64, st certdesk.Status, resolution string) bool {
	t.Helper()
	_, applied, err := s.ChangeCase(context.Background(), store.Change{CaseID: id, WorkflowStep: step, Status: st, Resolution: resolution,
		Event: store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventType(st)}})
	if err != nil {
		t.Fatal(err)
	}
	return applied
}

func evCaseData(t *testing.T, e certdesk.DomainEvent) certdesk.CaseChangedData {
	t.Helper()
	var d certdesk.CaseChangedData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("%s data %s: %v", e.Type, e.Data, err)
	}
	return d
}

// evFields is a JSON object's fields (PostgreSQL keeps JSON as jsonb: the
// spacing and the order of keys are its own).
func evFields(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func evRecord(t *testing.T, s *store.Store, as ...store.Attempt) {
	t.Helper()
	if err := s.RecordAttempts(context.Background(), as); err != nil {
		t.Fatal(err)
	}
}

// evDeliverAll records a 200 for every pending delivery of a subscriber.
func evDeliverAll(t *testing.T, s *store.Store, subID string, at time.Time) {
	t.Helper()
	var as []store.Attempt
	for _, d := range evPending(t, s, subID) {
		as = append(as, store.Attempt{SubscriberID: subID, EventSeq: d.Event.Seq, EventID: d.Event.ID, Attempt: d.Attempts + 1, At: at,
			StatusCode: 200, LatencyMS: 5, Outcome: store.OutcomeDelivered})
	}
	evRecord(t, s, as...)
	if left := evPending(t, s, subID); len(left) != 0 {
		t.Fatalf("%d deliveries still pending after delivering them all", len(left))
	}
}

func TestEventOutboxFansOutToSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		if evs := evEvents(t, s, store.EventFilter{}); len(evs) != 0 {
			t.Fatalf("the seeded store has %d domain events before any change", len(evs))
		}
		profiles := evSubscriber(t, s, "certification_profile.*")
		all := evSubscriber(t, s, "*")
		ended := evSubscriber(t, s, "case.ended")
		off := evSubscriber(t, s, "*")
		if err := s.SetSubscriberStatus(ctx, off.ID, store.SubscriberDisabled, store.DisabledByStaff); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSubscriberStatus(ctx, "whsub_"+certdesk.NewID(), store.SubscriberDisabled, store.DisabledByStaff); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("disabling an unknown subscriber: %v, want not found", err)
		}

		openedAt := clock.Now()
		c := evOpenCase(t, s, "100003", "100004")
		opened := evOneEvent(t, s, certdesk.EventCaseOpened)
		rest, ok := strings.CutPrefix(opened.ID, "evt_")
		if !ok || !certdesk.ValidID(rest) {
			t.Errorf("event id %q, want evt_ and an id", opened.ID)
		}
		if opened.Version != 1 || !opened.CreatedAt.Equal(openedAt) || opened.OrderKey != c.ID || opened.Seq <= 0 {
			t.Errorf("case.opened = %+v, want version 1 at %v, ordered by the case", opened, openedAt)
		}
		d := evCaseData(t, opened)
		if d.CaseID != c.ID || d.Kind != certdesk.KindConnect || d.Status != certdesk.StatusOpen || d.Resolution != "" || !slices.Equal(d.MCIDs, []string{"100003", "100004"}) {
			t.Errorf("case.opened data = %+v", d)
		}
		if _, ok := evFields(t, opened.Data)["resolution"]; ok {
			t.Errorf("case.opened data %s has a resolution before the case has one", opened.Data)
		}
		if got, err := s.DomainEvent(ctx, opened.ID); err != nil || got.Seq != opened.Seq || got.Type != opened.Type || string(got.Data) != string(opened.Data) {
			t.Errorf("DomainEvent(%s) = %+v, %v", opened.ID, got, err)
		}
		if _, err := s.DomainEvent(ctx, "evt_"+certdesk.NewID()); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("an unknown event: %v, want not found", err)
		}
		// What a subscriber receives: the five fields, nothing internal.
		body, err := opened.Body()
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if strings.Join(keys, ",") != "created_at,data,id,type,version" {
			t.Errorf("the body's fields are %v", keys)
		}

		ds := evPending(t, s, all.ID)
		if len(ds) != 1 || ds[0].Event.ID != opened.ID || ds[0].Event.Seq != opened.Seq || ds[0].Attempts != 0 ||
			!ds[0].NextAttemptAt.Equal(openedAt) || !ds[0].FirstAt.Equal(openedAt) || ds[0].SubscriberID != all.ID ||
			ds[0].Event.Type != certdesk.EventCaseOpened || ds[0].Event.OrderKey != c.ID || string(ds[0].Event.Data) != string(opened.Data) {
			t.Fatalf("pending for *: %+v, want case.opened due now", ds)
		}
		for name, sub := range map[string]store.Subscriber{"certification_profile.*": profiles, "case.ended": ended, "disabled": off} {
			if ids := evPendingIDs(t, s, sub.ID); len(ids) != 0 {
				t.Errorf("the %s subscriber has case.opened queued: %v", name, ids)
			}
		}

		// A change that is not an end writes nothing.
		clock.Add(time.Minute)
		if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: c.ID, WorkflowStep: 2, Status: certdesk.StatusAwaitingLearner,
			Event: store.Event{Actor: certdesk.ActorSystem, Type: "awaiting_learner"}}); err != nil {
			t.Fatal(err)
		}
		if evs := evEvents(t, s, store.EventFilter{}); len(evs) != 1 {
			t.Fatalf("a non-terminal change wrote events: %+v", evs)
		}

		endedAt := clock.Add(time.Minute)
		evEndCase(t, s, c.ID, 3, certdesk.StatusCompleted, "connected")
		end := evOneEvent(t, s, certdesk.EventCaseEnded)
		if end.Seq <= opened.Seq || !end.CreatedAt.Equal(endedAt) || end.OrderKey != c.ID || end.Version != 1 {
			t.Errorf("case.ended = %+v", end)
		}
		if d := evCaseData(t, end); d.CaseID != c.ID || d.Status != certdesk.StatusCompleted || d.Resolution != "connected" || d.Kind != certdesk.KindConnect {
			t.Errorf("case.ended data = %+v", d)
		}
		if ids := evPendingIDs(t, s, all.ID); !slices.Equal(ids, []string{opened.ID, end.ID}) {
			t.Errorf("pending for * = %v, want opened then ended", ids)
		}
		if ids := evPendingIDs(t, s, ended.ID); !slices.Equal(ids, []string{end.ID}) {
			t.Errorf("pending for case.ended = %v, want only the end", ids)
		}

		// certification_profile.* takes a connection; the disabled one still
		// gets nothing.
		connectedAt := clock.Add(time.Minute)
		if _, err := s.Connect(ctx, store.DemoID("lp:ana"), store.DemoID("profile:100001")); err != nil {
			t.Fatal(err)
		}
		conn := evOneEvent(t, s, certdesk.EventProfileConnected)
		if !conn.CreatedAt.Equal(connectedAt) {
			t.Errorf("connected at %v, want %v", conn.CreatedAt, connectedAt)
		}
		if ids := evPendingIDs(t, s, profiles.ID); !slices.Equal(ids, []string{conn.ID}) {
			t.Errorf("pending for certification_profile.* = %v, want only the connection", ids)
		}
		if ids := evPendingIDs(t, s, all.ID); !slices.Equal(ids, []string{opened.ID, end.ID, conn.ID}) {
			t.Errorf("pending for * = %v, want the three events in order", ids)
		}
		if ids := evPendingIDs(t, s, off.ID); len(ids) != 0 {
			t.Errorf("the disabled subscriber has %v queued", ids)
		}

		// The backlogs, as Subscribers shows them.
		subs, err := s.Subscribers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{profiles.ID: 1, all.ID: 3, ended.ID: 1, off.ID: 0}
		if len(subs) != len(want) {
			t.Fatalf("Subscribers = %d, want %d", len(subs), len(want))
		}
		for _, sub := range subs {
			if sub.Backlog != want[sub.ID] || sub.Failed != 0 {
				t.Errorf("subscriber %v backlog %d failed %d, want %d and 0", sub.Events, sub.Backlog, sub.Failed, want[sub.ID])
			}
			if len(sub.Secrets) != 1 || !strings.HasPrefix(sub.Secrets[0].Secret, "whsec_") {
				t.Errorf("subscriber secrets = %+v", sub.Secrets)
			}
		}
		if got := evGetSubscriber(t, s, off.ID); got.Status != store.SubscriberDisabled || got.DisabledReason != store.DisabledByStaff {
			t.Errorf("disabled subscriber = %s (%q)", got.Status, got.DisabledReason)
		}
		if _, err := s.Subscriber(ctx, "whsub_"+certdesk.NewID()); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("an unknown subscriber: %v, want not found", err)
		}
		// Enabled again, it has no reason left, and it takes what is
		// written from then on.
		if err := s.SetSubscriberStatus(ctx, off.ID, store.SubscriberActive, "ignored"); err != nil {
			t.Fatal(err)
		}
		if got := evGetSubscriber(t, s, off.ID); got.Status != store.SubscriberActive || got.DisabledReason != "" {
			t.Errorf("enabled subscriber = %s (%q)", got.Status, got.DisabledReason)
		}
		// A subscriber receives what is written after it is created.
		late := evSubscriber(t, s, "*")
		c2 := evOpenCase(t, s)
		opened2 := evEvents(t, s, store.EventFilter{Type: certdesk.EventCaseOpened, AfterSeq: opened.Seq})
		if len(opened2) != 1 || evCaseData(t, opened2[0]).CaseID != c2.ID || !slices.Equal(evCaseData(t, opened2[0]).MCIDs, []string{}) {
			t.Fatalf("second case.opened = %+v", opened2)
		}
		if mc := string(evFields(t, opened2[0].Data)["mcids"]); mc != "[]" {
			t.Errorf("a case without MCIDs has data %s, want mcids []", opened2[0].Data)
		}
		for name, sub := range map[string]store.Subscriber{"created late": late, "enabled again": off} {
			if ids := evPendingIDs(t, s, sub.ID); !slices.Equal(ids, []string{opened2[0].ID}) {
				t.Errorf("the subscriber %s has %v queued, want only the event written after", name, ids)
			}
		}

		// The filters of DomainEvents.
		everything := evEvents(t, s, store.EventFilter{})
		if ids := evIDs(everything); !slices.Equal(ids, []string{opened.ID, end.ID, conn.ID, opened2[0].ID}) {
			t.Errorf("DomainEvents = %v, want the four in order", ids)
		}
		if ids := evIDs(evEvents(t, s, store.EventFilter{Limit: 2})); !slices.Equal(ids, []string{opened.ID, end.ID}) {
			t.Errorf("DomainEvents limit 2 = %v", ids)
		}
		if ids := evIDs(evEvents(t, s, store.EventFilter{Since: endedAt})); !slices.Equal(ids, []string{end.ID, conn.ID, opened2[0].ID}) {
			t.Errorf("DomainEvents since the end = %v", ids)
		}
		if ids := evIDs(evEvents(t, s, store.EventFilter{AfterSeq: conn.Seq})); !slices.Equal(ids, []string{opened2[0].ID}) {
			t.Errorf("DomainEvents after the connection = %v", ids)
		}
		recent, err := s.RecentEvents(ctx, 2)
		if err != nil || !slices.Equal(evIDs(recent), []string{opened2[0].ID, conn.ID}) {
			t.Errorf("RecentEvents(2) = %v, %v; want the newest first", evIDs(recent), err)
		}
	})
}

func TestEventCaseOpenedAndEndedAreWrittenOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		all := evSubscriber(t, s, "*")
		c := evOpenCase(t, s, "100002")
		again := certdesk.Case{ID: c.ID, Kind: certdesk.KindConnect, Requester: certdesk.ActorSystem, WorkflowID: c.WorkflowID}
		clock.Add(time.Second)
		if created, err := s.OpenCase(ctx, &again, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil || created {
			t.Fatalf("second OpenCase = %v, %v", created, err)
		}
		opened := evOneEvent(t, s, certdesk.EventCaseOpened)
		if d := evCaseData(t, opened); !slices.Equal(d.MCIDs, []string{"100002"}) {
			t.Errorf("case.opened data = %+v, want the first opening's", d)
		}

		// A stale change that would end the case rolls back with its event.
		_, _, err := s.ChangeCase(ctx, store.Change{CaseID: c.ID, ExpectVersion: 7, Status: certdesk.StatusCancelled,
			Event: store.Event{Actor: certdesk.ActorSystem, Type: "cancelled"}})
		if certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Fatalf("stale change: %v, want conflict", err)
		}
		if evs := evEvents(t, s, store.EventFilter{Type: certdesk.EventCaseEnded}); len(evs) != 0 {
			t.Fatalf("a rolled-back change left its event: %+v", evs)
		}

		if !evEndCase(t, s, c.ID, 5, certdesk.StatusRejected, "not_owned") {
			t.Fatal("the end did not apply")
		}
		if evEndCase(t, s, c.ID, 5, certdesk.StatusRejected, "not_owned") {
			t.Fatal("the retried end applied again")
		}
		end := evOneEvent(t, s, certdesk.EventCaseEnded)
		if d := evCaseData(t, end); d.Status != certdesk.StatusRejected || d.Resolution != "not_owned" {
			t.Errorf("case.ended data = %+v", d)
		}
		// A later step that fails the ended case does not end it twice.
		if _, err := s.FailCase(ctx, c, 6, "boom"); err != nil {
			t.Fatal(err)
		}
		evOneEvent(t, s, certdesk.EventCaseEnded)
		if ids := evPendingIDs(t, s, all.ID); !slices.Equal(ids, []string{opened.ID, end.ID}) {
			t.Errorf("pending = %v, want one opened and one ended", ids)
		}

		// FailCase of a case never written opens and ends it: both events.
		lost := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "wf-lost"}
		if _, err := s.FailCase(ctx, lost, 1, "opening failed"); err != nil {
			t.Fatal(err)
		}
		evs := evEvents(t, s, store.EventFilter{AfterSeq: end.Seq})
		if len(evs) != 1 || evs[0].Type != certdesk.EventCaseEnded {
			t.Fatalf("FailCase of an unwritten case wrote %+v", evs)
		}
		if d := evCaseData(t, evs[0]); d.CaseID != lost.ID || d.Status != certdesk.StatusFailed || d.Resolution != certdesk.ResolutionWorkflowFailed || d.Kind != certdesk.KindMerge {
			t.Errorf("case.ended of the failed case = %+v", d)
		}
	})
}

func TestEventProfileConnected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		conns := evSubscriber(t, s, string(certdesk.EventProfileConnected))
		cases := evSubscriber(t, s, "case.*")
		lp, profile := store.DemoID("lp:ana"), store.DemoID("profile:100001")
		// A refused connection writes nothing.
		if _, err := s.Connect(ctx, lp, store.DemoID("profile:100002")); refusal(err) != certdesk.ConnectNotOwned {
			t.Fatalf("Connect to someone else's profile: %v", err)
		}
		if evs := evEvents(t, s, store.EventFilter{}); len(evs) != 0 {
			t.Fatalf("a refused connection wrote %+v", evs)
		}
		at := clock.Add(time.Second)
		if _, err := s.Connect(ctx, lp, profile); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Second)
		if _, err := s.Connect(ctx, lp, profile); err != nil { // connecting again is a no-op
			t.Fatal(err)
		}
		e := evOneEvent(t, s, certdesk.EventProfileConnected)
		if e.OrderKey != profile || !e.CreatedAt.Equal(at) {
			t.Errorf("connected = %+v, want ordered by the profile, at %v", e, at)
		}
		var d certdesk.ProfileConnectedData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.CertificationProfile.ID != profile || d.CertificationProfile.MCID != "100001" || d.LearningProfileID != lp || !d.ConnectedAt.Equal(at) {
			t.Errorf("connected data = %+v (%s)", d, e.Data)
		}
		fields := evFields(t, e.Data)
		for _, key := range []string{"certification_profile", "learning_profile_id", "connected_at"} {
			if _, ok := fields[key]; !ok || len(fields) != 3 {
				t.Errorf("connected data %s: want exactly certification_profile, learning_profile_id, connected_at", e.Data)
			}
		}
		if ref := evFields(t, fields["certification_profile"]); len(ref) != 2 || string(ref["mcid"]) != `"100001"` || string(ref["id"]) != `"`+profile+`"` {
			t.Errorf("certification_profile = %s, want its id and mcid", fields["certification_profile"])
		}
		if ids := evPendingIDs(t, s, conns.ID); !slices.Equal(ids, []string{e.ID}) {
			t.Errorf("pending for the connected subscriber = %v", ids)
		}
		if ids := evPendingIDs(t, s, cases.ID); len(ids) != 0 {
			t.Errorf("pending for case.* = %v, want nothing", ids)
		}
	})
}

func TestAttemptsMoveDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		sub := evSubscriber(t, s, "*")
		other := evSubscriber(t, s, "case.*")
		evOpenCase(t, s)
		evOpenCase(t, s)
		evOpenCase(t, s)
		evs := evEvents(t, s, store.EventFilter{})
		if len(evs) != 3 {
			t.Fatalf("%d events", len(evs))
		}
		e1, e2, e3 := evs[0], evs[1], evs[2]
		if err := s.RecordAttempts(ctx, nil); err != nil {
			t.Fatalf("no attempts: %v", err)
		}

		// A 503: still pending, with its count and next time.
		t1 := clock.Add(time.Second)
		next := t1.Add(2 * time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: e1.Seq, EventID: e1.ID, Attempt: 1, At: t1, StatusCode: 503,
			LatencyMS: 120, Response: "busy\x00 now", Outcome: store.OutcomeRetry, NextAttemptAt: next})
		ds := evPending(t, s, sub.ID)
		if len(ds) != 3 || ds[0].Event.ID != e1.ID || ds[0].Attempts != 1 || !ds[0].NextAttemptAt.Equal(next) {
			t.Fatalf("after a retry: %+v, want e1 pending, attempt 1, next at %v", ds, next)
		}
		if ds[1].Attempts != 0 || ds[2].Attempts != 0 {
			t.Errorf("a retry of e1 touched the others: %+v", ds[1:])
		}
		got := evGetSubscriber(t, s, sub.ID)
		if got.ConsecutiveFailures != 1 || got.LastFailureAt == nil || !got.LastFailureAt.Equal(t1) || got.LastSuccessAt != nil || got.Backlog != 3 {
			t.Errorf("after a retry, subscriber = %+v", got)
		}
		// The same event for another subscriber is its own delivery.
		if ds := evPending(t, s, other.ID); len(ds) != 3 || ds[0].Attempts != 0 {
			t.Errorf("another subscriber's delivery of e1 = %+v", ds)
		}

		// A timeout: no status, an error.
		t2 := clock.Add(2 * time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: e1.Seq, EventID: e1.ID, Attempt: 2, At: t2, StatusCode: 0,
			LatencyMS: 10000, Error: "timed out", Outcome: store.OutcomeRetry, NextAttemptAt: t2.Add(6 * time.Second)})
		if got := evGetSubscriber(t, s, sub.ID); got.ConsecutiveFailures != 2 {
			t.Errorf("consecutive failures = %d, want 2", got.ConsecutiveFailures)
		}

		// A 200: delivered, the subscriber healthy.
		t3 := clock.Add(6 * time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: e1.Seq, EventID: e1.ID, Attempt: 3, At: t3, StatusCode: 200,
			LatencyMS: 42, Response: "ok", Outcome: store.OutcomeDelivered})
		if ids := evPendingIDs(t, s, sub.ID); !slices.Equal(ids, []string{e2.ID, e3.ID}) {
			t.Errorf("pending after delivering e1 = %v", ids)
		}
		got = evGetSubscriber(t, s, sub.ID)
		if got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(t3) || got.ConsecutiveFailures != 0 || got.Backlog != 2 || got.Failed != 0 {
			t.Errorf("after delivering, subscriber = %+v", got)
		}
		// A late answer for a delivered event does not queue it again.
		late := clock.Add(time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: e1.Seq, EventID: e1.ID, Attempt: 4, At: late, StatusCode: 500,
			Outcome: store.OutcomeRetry, NextAttemptAt: late.Add(time.Minute)})
		if ids := evPendingIDs(t, s, sub.ID); !slices.Equal(ids, []string{e2.ID, e3.ID}) {
			t.Errorf("a retry recorded for a delivered event queued it again: %v", ids)
		}

		// The retries ran out: failed.
		t4 := clock.Add(time.Hour)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: e2.Seq, EventID: e2.ID, Attempt: 9, At: t4, StatusCode: 500,
			LatencyMS: 7, Response: "still broken", Outcome: store.OutcomeFailed})
		if ids := evPendingIDs(t, s, sub.ID); !slices.Equal(ids, []string{e3.ID}) {
			t.Errorf("pending after e2 failed = %v", ids)
		}
		got = evGetSubscriber(t, s, sub.ID)
		if got.Failed != 1 || got.Backlog != 1 || got.Status != store.SubscriberActive || got.LastFailureAt == nil || !got.LastFailureAt.Equal(t4) {
			t.Errorf("after a failed delivery, subscriber = %+v", got)
		}

		// The record of attempts.
		as, err := s.Attempts(ctx, e1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 4 {
			t.Fatalf("attempts at e1 = %+v, want 4", as)
		}
		wantCodes, wantLatency := []int{503, 0, 200, 500}, []int64{120, 10000, 42, 0}
		wantOutcomes := []string{store.OutcomeRetry, store.OutcomeRetry, store.OutcomeDelivered, store.OutcomeRetry}
		for i, a := range as {
			if a.EventID != e1.ID || a.EventSeq != e1.Seq || a.SubscriberID != sub.ID || a.Attempt != i+1 ||
				a.StatusCode != wantCodes[i] || a.LatencyMS != wantLatency[i] || a.Outcome != wantOutcomes[i] {
				t.Errorf("attempt %d = %+v", i+1, a)
			}
		}
		if !as[0].At.Equal(t1) || as[0].Response != "busy now" || as[1].Error != "timed out" || as[2].Response != "ok" {
			t.Errorf("attempt details = %+v / %+v / %+v (a NUL is dropped from a response)", as[0], as[1], as[2])
		}
		if as, err := s.Attempts(ctx, e1.ID, e2.ID, e3.ID); err != nil || len(as) != 5 {
			t.Errorf("attempts at three events = %d, %v; want 5", len(as), err)
		}
		if as, err := s.Attempts(ctx, "evt_"+certdesk.NewID()); err != nil || len(as) != 0 {
			t.Errorf("attempts at an unknown event = %+v, %v", as, err)
		}

		// A 410: the subscriber is disabled as gone, its backlog kept.
		t5 := clock.Add(time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: other.ID, EventSeq: e1.Seq, EventID: e1.ID, Attempt: 1, At: t5, StatusCode: 410,
			LatencyMS: 3, Outcome: store.OutcomeGone, NextAttemptAt: t5})
		got = evGetSubscriber(t, s, other.ID)
		if got.Status != store.SubscriberDisabled || got.DisabledReason != store.DisabledGone || got.Backlog != 3 || got.ConsecutiveFailures != 1 {
			t.Errorf("after a 410, subscriber = %+v, want disabled (gone) with its backlog", got)
		}
		if ds := evPending(t, s, other.ID); len(ds) != 3 || ds[0].Attempts != 1 || !ds[0].NextAttemptAt.Equal(t5) {
			t.Errorf("the gone subscriber's deliveries = %+v", ds)
		}
		if got := evGetSubscriber(t, s, sub.ID); got.Status != store.SubscriberActive {
			t.Errorf("another subscriber's 410 disabled this one: %+v", got)
		}
		if as, _ := s.Attempts(ctx, e1.ID); len(as) != 5 || as[4].Outcome != store.OutcomeGone || as[4].SubscriberID != other.ID {
			t.Errorf("the 410 attempt = %+v", as)
		}
	})
}

// Attempts of one subscriber come in batches (one per round of its
// sender, several order keys at once): a 410 anywhere in the batch must
// disable it, whatever is recorded after it in the same batch.
func TestAttemptsA410InABatchDisables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		sub := evSubscriber(t, s, "*")
		evOpenCase(t, s)
		evOpenCase(t, s)
		evs := evEvents(t, s, store.EventFilter{})
		at := clock.Add(time.Second)
		evRecord(t, s,
			store.Attempt{SubscriberID: sub.ID, EventSeq: evs[0].Seq, EventID: evs[0].ID, Attempt: 1, At: at, StatusCode: 410, Outcome: store.OutcomeGone, NextAttemptAt: at},
			store.Attempt{SubscriberID: sub.ID, EventSeq: evs[1].Seq, EventID: evs[1].ID, Attempt: 1, At: at, StatusCode: 200, Outcome: store.OutcomeDelivered})
		if ids := evPendingIDs(t, s, sub.ID); !slices.Equal(ids, []string{evs[0].ID}) {
			t.Errorf("pending = %v, want the event answered 410", ids)
		}
		got := evGetSubscriber(t, s, sub.ID)
		if got.Status == store.SubscriberActive {
			t.Fatalf("a 2xx recorded after a 410 in one batch left the subscriber active (%+v)", got)
		}
		if got.Status != store.SubscriberDisabled || got.DisabledReason != store.DisabledGone {
			t.Errorf("subscriber = %+v, want disabled (gone)", got)
		}
	})
}

func TestReplayQueuesEventsAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		t0 := clock.Now()
		sub := evSubscriber(t, s, "*")
		profiles := evSubscriber(t, s, "certification_profile.*")
		c1 := evOpenCase(t, s)
		clock.Add(time.Minute)
		evOpenCase(t, s)
		t2 := clock.Add(time.Minute)
		evEndCase(t, s, c1.ID, 2, certdesk.StatusCancelled, "withdrawn")
		all := evEvents(t, s, store.EventFilter{})
		if len(all) != 3 {
			t.Fatalf("%d events", len(all))
		}
		ids := evIDs(all)
		evDeliverAll(t, s, sub.ID, clock.Add(time.Second))

		now := clock.Add(time.Hour)
		n, err := s.Replay(ctx, sub.ID, t0, "")
		if err != nil || n != 3 {
			t.Fatalf("Replay since the start = %d, %v; want 3", n, err)
		}
		ds := evPending(t, s, sub.ID)
		if got := evPendingIDs(t, s, sub.ID); !slices.Equal(got, ids) {
			t.Fatalf("pending after a replay = %v, want %v in order", got, ids)
		}
		for _, d := range ds {
			if d.Attempts != 0 || !d.NextAttemptAt.Equal(now) {
				t.Errorf("replayed delivery = %+v, want no attempts, due now", d)
			}
		}
		if got := evGetSubscriber(t, s, sub.ID); got.Backlog != 3 {
			t.Errorf("backlog after a replay = %d", got.Backlog)
		}
		evDeliverAll(t, s, sub.ID, clock.Add(time.Second))

		// Since a time.
		if n, err := s.Replay(ctx, sub.ID, t2, ""); err != nil || n != 1 {
			t.Fatalf("Replay since the end = %d, %v; want 1", n, err)
		}
		if got := evPendingIDs(t, s, sub.ID); !slices.Equal(got, ids[2:]) {
			t.Errorf("pending after a replay since %v = %v", t2, got)
		}
		evDeliverAll(t, s, sub.ID, clock.Add(time.Second))

		// Of one type.
		if n, err := s.Replay(ctx, sub.ID, t0, certdesk.EventCaseOpened); err != nil || n != 2 {
			t.Fatalf("Replay of case.opened = %d, %v; want 2", n, err)
		}
		for _, d := range evPending(t, s, sub.ID) {
			if d.Event.Type != certdesk.EventCaseOpened {
				t.Errorf("a replay of case.opened queued %s", d.Event.Type)
			}
		}
		if got := evPendingIDs(t, s, sub.ID); !slices.Equal(got, ids[:2]) {
			t.Errorf("pending after a replay of case.opened = %v", got)
		}

		// A pending delivery with attempts starts over; a failed one comes back.
		at := clock.Add(time.Second)
		evRecord(t, s,
			store.Attempt{SubscriberID: sub.ID, EventSeq: all[0].Seq, EventID: all[0].ID, Attempt: 4, At: at, StatusCode: 500, Outcome: store.OutcomeRetry, NextAttemptAt: at.Add(time.Hour)},
			store.Attempt{SubscriberID: sub.ID, EventSeq: all[1].Seq, EventID: all[1].ID, Attempt: 9, At: at, StatusCode: 500, Outcome: store.OutcomeFailed})
		if got := evGetSubscriber(t, s, sub.ID); got.Failed != 1 {
			t.Fatalf("failed = %d", got.Failed)
		}
		now = clock.Add(time.Second)
		if n, err := s.Replay(ctx, sub.ID, t0, ""); err != nil || n != 3 {
			t.Fatalf("Replay = %d, %v", n, err)
		}
		ds = evPending(t, s, sub.ID)
		if len(ds) != 3 {
			t.Fatalf("pending after replaying a failed delivery = %+v", ds)
		}
		for _, d := range ds {
			if d.Attempts != 0 || !d.NextAttemptAt.Equal(now) {
				t.Errorf("replayed delivery = %+v, want attempts 0, due %v", d, now)
			}
		}
		if got := evGetSubscriber(t, s, sub.ID); got.Failed != 0 || got.Backlog != 3 {
			t.Errorf("after the replay failed %d backlog %d, want 0 and 3", got.Failed, got.Backlog)
		}

		// Only what the subscriber's patterns take.
		if n, err := s.Replay(ctx, profiles.ID, t0, ""); err != nil || n != 0 {
			t.Errorf("Replay of case events for certification_profile.* = %d, %v; want 0", n, err)
		}
		if got := evPendingIDs(t, s, profiles.ID); len(got) != 0 {
			t.Errorf("certification_profile.* got %v", got)
		}
		if n, err := s.Replay(ctx, sub.ID, clock.Add(time.Hour), ""); err != nil || n != 0 {
			t.Errorf("Replay since the future = %d, %v", n, err)
		}
		if _, err := s.Replay(ctx, "whsub_"+certdesk.NewID(), t0, ""); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("Replay for an unknown subscriber: %v, want not found", err)
		}
	})
}

// A replayed or resent event gets the sender's whole retry window again:
// the sender gives an event up once RetryFor has passed since FirstAt, so
// FirstAt must be when it was queued again, not when it was first written.
func TestReplayRestartsTheRetryWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		t0 := clock.Now()
		sub := evSubscriber(t, s, "*")
		evOpenCase(t, s)
		evDeliverAll(t, s, sub.ID, t0)
		now := clock.Add(100 * time.Hour)
		if n, err := s.Replay(ctx, sub.ID, t0, ""); err != nil || n != 1 {
			t.Fatalf("Replay = %d, %v", n, err)
		}
		ds := evPending(t, s, sub.ID)
		if len(ds) != 1 || !ds[0].NextAttemptAt.Equal(now) {
			t.Fatalf("replayed = %+v", ds)
		}
		if ds[0].FirstAt.Equal(t0) {
			t.Fatalf("a replayed delivery keeps FirstAt %v (the first queueing): the sender would give it up after its first failed attempt", t0)
		}
		if !ds[0].FirstAt.Equal(now) {
			t.Errorf("FirstAt = %v, want the replay's %v", ds[0].FirstAt, now)
		}
	})
}

func TestResendQueuesOneEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		sub := evSubscriber(t, s, "*")
		evOpenCase(t, s)
		evOpenCase(t, s)
		evs := evEvents(t, s, store.EventFilter{})
		evDeliverAll(t, s, sub.ID, clock.Add(time.Second))

		now := clock.Add(time.Minute)
		if err := s.Resend(ctx, sub.ID, evs[1].ID); err != nil {
			t.Fatal(err)
		}
		ds := evPending(t, s, sub.ID)
		if len(ds) != 1 || ds[0].Event.ID != evs[1].ID || ds[0].Attempts != 0 || !ds[0].NextAttemptAt.Equal(now) {
			t.Fatalf("pending after a resend = %+v, want the one event due now", ds)
		}
		// Resent while pending with attempts: it starts over.
		at := clock.Add(time.Second)
		evRecord(t, s, store.Attempt{SubscriberID: sub.ID, EventSeq: evs[1].Seq, EventID: evs[1].ID, Attempt: 3, At: at, StatusCode: 502,
			Outcome: store.OutcomeRetry, NextAttemptAt: at.Add(time.Hour)})
		now = clock.Add(time.Second)
		if err := s.Resend(ctx, sub.ID, evs[1].ID); err != nil {
			t.Fatal(err)
		}
		if ds := evPending(t, s, sub.ID); len(ds) != 1 || ds[0].Attempts != 0 || !ds[0].NextAttemptAt.Equal(now) {
			t.Errorf("resent pending delivery = %+v, want attempts 0, due now", ds)
		}
		// To a subscriber created after the event: queued for it too.
		late := evSubscriber(t, s, "*")
		if err := s.Resend(ctx, late.ID, evs[0].ID); err != nil {
			t.Fatal(err)
		}
		if ids := evPendingIDs(t, s, late.ID); !slices.Equal(ids, []string{evs[0].ID}) {
			t.Errorf("resent to a later subscriber: %v", ids)
		}
		if err := s.Resend(ctx, sub.ID, "evt_"+certdesk.NewID()); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("resending an unknown event: %v, want not found", err)
		}
		if err := s.Resend(ctx, "whsub_"+certdesk.NewID(), evs[0].ID); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("resending to an unknown subscriber: %v, want not found", err)
		}
	})
}

func TestRotateSecretKeepsTheOldOneForAWhile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		clock := evClockOf(s)
		first := evSecret()
		created, err := s.CreateSubscriber(ctx, "https://hooks.example.com/rotate", []string{"*"}, first)
		if err != nil {
			t.Fatal(err)
		}
		if got := created.SigningSecrets(clock.Now()); !slices.Equal(got, []string{first}) {
			t.Fatalf("a new subscriber signs with %v", got)
		}
		keep := 24 * time.Hour
		t1 := clock.Add(time.Minute)
		second := evSecret()
		if err := s.RotateSecret(ctx, created.ID, second, keep); err != nil {
			t.Fatal(err)
		}
		sub := evGetSubscriber(t, s, created.ID)
		if len(sub.Secrets) != 2 || sub.Secrets[0].Secret != second || sub.Secrets[0].ExpiresAt != nil ||
			sub.Secrets[1].Secret != first || sub.Secrets[1].ExpiresAt == nil || !sub.Secrets[1].ExpiresAt.Equal(t1.Add(keep)) {
			t.Fatalf("secrets after a rotation = %+v, want the new one first and the old one until %v", sub.Secrets, t1.Add(keep))
		}
		if got := sub.SigningSecrets(t1); !slices.Equal(got, []string{second, first}) {
			t.Errorf("signing secrets during the rotation = %v", got)
		}
		if got := sub.SigningSecrets(t1.Add(keep - time.Second)); !slices.Equal(got, []string{second, first}) {
			t.Errorf("signing secrets just before the old one expires = %v", got)
		}
		if got := sub.SigningSecrets(t1.Add(keep + time.Second)); !slices.Equal(got, []string{second}) {
			t.Errorf("signing secrets after keepOld = %v, want only the new one", got)
		}

		// Rotating again: the oldest keeps its earlier expiry, the one
		// before gets the new window.
		t2 := clock.Add(time.Hour)
		third := evSecret()
		if err := s.RotateSecret(ctx, created.ID, third, keep); err != nil {
			t.Fatal(err)
		}
		sub = evGetSubscriber(t, s, created.ID)
		if len(sub.Secrets) != 3 || sub.Secrets[0].Secret != third || sub.Secrets[1].Secret != second || sub.Secrets[2].Secret != first ||
			!sub.Secrets[1].ExpiresAt.Equal(t2.Add(keep)) || !sub.Secrets[2].ExpiresAt.Equal(t1.Add(keep)) {
			t.Fatalf("secrets after a second rotation = %+v", sub.Secrets)
		}
		if got := sub.SigningSecrets(t1.Add(keep + time.Second)); !slices.Equal(got, []string{third, second}) {
			t.Errorf("signing secrets once the first expired = %v", got)
		}

		// A rotation without a window drops the old ones at once.
		fourth := evSecret()
		clock.Add(time.Second)
		if err := s.RotateSecret(ctx, created.ID, fourth, 0); err != nil {
			t.Fatal(err)
		}
		sub = evGetSubscriber(t, s, created.ID)
		if len(sub.Secrets) != 1 || sub.Secrets[0].Secret != fourth || !slices.Equal(sub.SigningSecrets(clock.Now()), []string{fourth}) {
			t.Errorf("secrets after a rotation keeping nothing = %+v", sub.Secrets)
		}
		// Expired secrets are gone from the row at the next rotation.
		fifth := evSecret()
		if err := s.RotateSecret(ctx, created.ID, fifth, time.Hour); err != nil {
			t.Fatal(err)
		}
		clock.Add(2 * time.Hour)
		sixth := evSecret()
		if err := s.RotateSecret(ctx, created.ID, sixth, time.Hour); err != nil {
			t.Fatal(err)
		}
		sub = evGetSubscriber(t, s, created.ID)
		if len(sub.Secrets) != 2 || sub.Secrets[0].Secret != sixth || sub.Secrets[1].Secret != fifth {
			t.Errorf("secrets = %+v, want the sixth and the fifth (the fourth expired)", sub.Secrets)
		}

		if err := s.RotateSecret(ctx, "whsub_"+certdesk.NewID(), evSecret(), keep); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("rotating an unknown subscriber's secret: %v, want not found", err)
		}
	})
}
