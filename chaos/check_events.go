package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkEvents: every domain event queued for the subscriber reached it,
// once (but for the explained duplicates), each order key in order.
func (k *checker) checkEvents(ctx context.Context) error {
	if k.hooks == nil {
		return nil
	}
	k.proves("every domain event queued for the webhook subscriber was accepted by it (none missing), its signature verified")
	k.proves("the subscriber accepted each event's webhook-id once, but after a timed-out attempt or a kill before the sender could record the answer (explained)")
	k.proves("per certification profile (account, case), the subscriber accepted the events in the order they were written")
	// The sender retries at most a few seconds apart (the workers'
	// CERTDESK_WEBHOOK_MAX_BACKOFF): wait for the backlog to empty.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var left int
		if err := k.db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			k.violate("%d domain events still undelivered two minutes after the faults stopped", left)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	type ev struct {
		seq      int64
		key, typ string
	}
	events := map[string]ev{}
	var expected []string
	err := k.each(ctx, `SELECT e.id, e.seq, e.order_key, e.type FROM webhook_deliveries d JOIN domain_events e ON e.seq = d.event_seq ORDER BY e.seq`,
		func(rows *sql.Rows) error {
			var id string
			var e ev
			if err := rows.Scan(&id, &e.seq, &e.key, &e.typ); err != nil {
				return err
			}
			events[id] = e
			expected = append(expected, id)
			return nil
		})
	if err != nil {
		return err
	}
	timedOut := map[string]bool{}
	err = k.each(ctx, `SELECT e.id FROM webhook_attempts a JOIN domain_events e ON e.seq = a.event_seq WHERE a.error LIKE 'timed out%'`,
		func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			timedOut[id] = true
			return err
		})
	if err != nil {
		return err
	}
	accepted, order, answers, bad, slow := k.hooks.snapshot()
	k.rep.SubscriberAnswers = answers
	k.rep.EventsExpected = len(expected)
	for _, b := range bad {
		k.violate("a delivery to the subscriber did not verify: %s", b)
	}
	for _, id := range expected {
		at := accepted[id]
		if len(at) == 0 {
			k.rep.EventsMissing++
			k.violate("domain event %s (%s) never reached the subscriber", id, events[id].typ)
			continue
		}
		k.rep.EventsDelivered++
		if len(at) > 1 {
			k.rep.EventsDuplicated++
			// A slow answer's attempt ends at the sender's timeout: a kill
			// before then leaves it unrecorded.
			window := explainWindow
			if slow[id] {
				window += hookTimeout
			}
			if timedOut[id] || k.killedNear(at[0], window) {
				k.rep.EventsDuplicatedExplained++
			} else {
				k.violate("domain event %s (%s) accepted %d times without a timeout or a kill to explain it", id, events[id].typ, len(at))
			}
		}
	}
	last := map[string]int64{}
	for _, id := range order {
		e, ok := events[id]
		if !ok {
			k.violate("the subscriber accepted %s, which was never queued for it", id)
			continue
		}
		if e.seq < last[e.key] {
			k.rep.EventsOutOfOrder++
			k.violate("domain event %s (%s, #%d) reached the subscriber after #%d of the same %s", id, e.typ, e.seq, last[e.key], e.key)
		}
		last[e.key] = max(last[e.key], e.seq)
	}
	if len(expected) == 0 {
		return fmt.Errorf("no domain event was queued for the subscriber: the outbox wrote nothing")
	}
	return nil
}

// killedNear reports whether a worker was killed within d after t (the
// sender records what it sent every 25 ms: a kill in between sends those
// again).
func (k *checker) killedNear(t time.Time, d time.Duration) bool {
	for _, kill := range k.kills {
		if !kill.Before(t) && kill.Sub(t) <= d {
			return true
		}
	}
	return false
}
