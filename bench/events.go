package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/webhook"
)

// receivers are local webhook receivers that note when each event first
// answered 2xx.
type receivers struct {
	mu   sync.Mutex
	at   []map[string]time.Time
	srvs []*httptest.Server
}

func newReceivers(n int) *receivers {
	r := &receivers{}
	for i := range n {
		r.at = append(r.at, map[string]time.Time{})
		r.srvs = append(r.srvs, httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			id := req.Header.Get(webhook.HeaderID)
			r.mu.Lock()
			if _, ok := r.at[i][id]; !ok {
				r.at[i][id] = time.Now()
			}
			r.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})))
	}
	return r
}

func (r *receivers) close() {
	for _, s := range r.srvs {
		s.Close()
	}
}

// got returns when receiver i took event id.
func (r *receivers) got(i int, id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[i][id]
	return t, ok
}

// runEvents measures the delivery of domain events:
//   - lag: at o.Rate changes per second (a case opened: one event) with
//     three subscribers, from before the change's transaction to each
//     receiver's 2xx (goal: p99 ≤ 1 s);
//   - throughput: connect cases (the throughput scenario's path) without a
//     subscriber and with three (goal: ≥ 0.9 × without);
//   - drain: o.Cases events queued for one subscriber while it was
//     disabled, then enabled: events per second until none is left (goal:
//     ≥ 500/s).
func runEvents(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	s, err := startStack(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	defer s.close()
	rs := newReceivers(3)
	defer rs.close()

	// Throughput without subscribers first (nothing to deliver yet).
	connect, _, _, err := connectCases(ctx, s, 100+int(o.Duration.Seconds())*80, progress)
	if err != nil {
		return nil, err
	}
	var without, with samples
	// The two take turns, a slice each (subscribers disabled, then
	// enabled), so a machine getting slower or faster weighs on both.
	const turns = 4
	measure := func(sm *samples) error { return measureTurn(ctx, o.Concurrency, o.Duration/(2*turns), sm, connect) }
	for range 5 { // warm up
		if err := connect(ctx); err != nil {
			return nil, fmt.Errorf("warm-up case: %w", err)
		}
	}
	var subIDs []string
	for _, srv := range rs.srvs {
		sub, err := s.st.CreateSubscriber(ctx, srv.URL, []string{"*"}, webhook.NewSecret())
		if err != nil {
			return nil, err
		}
		subIDs = append(subIDs, sub.ID)
	}
	setSubs := func(status string) error {
		for _, id := range subIDs {
			if err := s.st.SetSubscriberStatus(ctx, id, status, store.DisabledByStaff); err != nil {
				return err
			}
		}
		return nil
	}
	for range turns {
		if err := setSubs(store.SubscriberDisabled); err != nil {
			return nil, err
		}
		if err := measure(&without); err != nil {
			return nil, err
		}
		if err := setSubs(store.SubscriberActive); err != nil {
			return nil, err
		}
		if err := measure(&with); err != nil {
			return nil, err
		}
	}
	base, subs := without.result("events", "connect, no subscriber", o.Concurrency), with.result("events", "connect, 3 subscribers", o.Concurrency)
	subs.Ratio = ratio(subs.PerSecond, base.PerSecond)
	if subs.Ratio != nil {
		goal(&subs, "ratio ≥ 0.9", *subs.Ratio >= 0.9)
	}
	progress("connect cases: %.1f/s without subscribers, %.1f/s with three", base.PerSecond, subs.PerSecond)

	// Lag: changes at o.Rate per second.
	type change struct {
		id    string
		start time.Time
	}
	var (
		mu      sync.Mutex
		changes []change
		failed  samples
	)
	openLoop(ctx, o.Rate, o.Concurrency*4, o.Duration, func() {
		start := time.Now()
		cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "bench-events-" + certdesk.NewID()}
		if _, err := s.st.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			failed.add(start, err)
			return
		}
		mu.Lock()
		changes = append(changes, change{id: cs.ID, start: start})
		mu.Unlock()
	})
	ids := map[string]time.Time{}
	evs, err := s.st.DomainEvents(ctx, store.EventFilter{Type: certdesk.EventCaseOpened})
	if err != nil {
		return nil, err
	}
	byCase := map[string]string{}
	for _, e := range evs {
		byCase[caseIDOf(e)] = e.ID
	}
	for _, c := range changes {
		if id, ok := byCase[c.id]; ok {
			ids[id] = c.start
		} else {
			failed.add(c.start, fmt.Errorf("case %s wrote no case.opened", c.id))
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var lag samples
	lag.errors, lag.firstErr = failed.errors, failed.firstErr
	for id, start := range ids {
		for i := range rs.srvs {
			for {
				if t, ok := rs.got(i, id); ok {
					lag.d = append(lag.d, t.Sub(start))
					break
				}
				if time.Now().After(deadline) {
					lag.errors++
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	lagR := lag.result("events", "lag: change to receiver's 2xx", 3)
	lagR.PerSecond = float64(len(changes)) / o.Duration.Seconds()
	goal(&lagR, "p99 ≤ 1000 ms", lagR.Count > 0 && lagR.Errors == 0 && lagR.P99ms <= 1000)
	progress("lag over %d changes × 3 subscribers: p50 %.1f ms, p99 %.1f ms", len(changes), lagR.P50ms, lagR.P99ms)

	drain, err := drainBacklog(ctx, s, o.Cases, progress)
	if err != nil {
		return nil, err
	}
	return []Result{base, subs, lagR, drain}, nil
}

func caseIDOf(e certdesk.DomainEvent) string {
	var d certdesk.CaseChangedData
	_ = json.Unmarshal(e.Data, &d)
	return d.CaseID
}

// drainBacklog queues n events for a disabled subscriber (written straight
// into the outbox, a thousand order keys), enables it, and measures how
// fast the backlog empties.
func drainBacklog(ctx context.Context, s *stack, n int, progress func(string, ...any)) (Result, error) {
	rs := newReceivers(1)
	defer rs.close()
	sub, err := s.st.CreateSubscriber(ctx, rs.srvs[0].URL, []string{"bench.backlog"}, webhook.NewSecret())
	if err != nil {
		return Result{}, err
	}
	if err := s.st.SetSubscriberStatus(ctx, sub.ID, store.SubscriberDisabled, store.DisabledByStaff); err != nil {
		return Result{}, err
	}
	_, err = s.pg.Exec(ctx, `
		WITH e AS (
			INSERT INTO domain_events (id, type, version, created_at, order_key, dedupe_key, data)
			SELECT 'evt_bench_' || g, 'bench.backlog', 1, now(), 'key-' || (g % 1000), 'bench:' || g, ('{"n":' || g || '}')::jsonb
			FROM generate_series(1, $1) g
			RETURNING seq, order_key)
		INSERT INTO webhook_deliveries (subscriber_id, event_seq, order_key, status, attempts, created_at, next_attempt_at)
		SELECT $2, seq, order_key, 'pending', 0, now(), now() FROM e`, n, sub.ID)
	if err != nil {
		return Result{}, fmt.Errorf("queue the backlog: %w", err)
	}
	progress("%d events queued for a disabled subscriber; enabling it", n)
	start := time.Now()
	if err := s.st.SetSubscriberStatus(ctx, sub.ID, store.SubscriberActive, ""); err != nil {
		return Result{}, err
	}
	r := Result{Scenario: "events", Name: fmt.Sprintf("drain a backlog of %d", n), Concurrency: 1}
	for {
		var left int
		if err := s.pg.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE subscriber_id = $1 AND status = 'pending'`, sub.ID).Scan(&left); err != nil {
			return r, err
		}
		if left == 0 {
			break
		}
		if time.Since(start) > 10*time.Minute || ctx.Err() != nil {
			r.Errors = left
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	r.Count = n - r.Errors
	r.PerSecond = float64(r.Count) / took.Seconds()
	goal(&r, "≥ 500 events/s", r.Errors == 0 && r.PerSecond >= 500)
	progress("drained %d events in %v: %.0f/s", r.Count, took.Round(time.Millisecond), r.PerSecond)
	return r, nil
}
