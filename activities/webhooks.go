package activities

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/webhook"
)

// Webhooks is how domain events are delivered.
type Webhooks struct {
	Sender *webhook.Sender
	// RetryFor is how long an event is retried before it is given up
	// (failed); MaxBackoff caps the wait between two attempts, so a
	// receiver that comes back gets its backlog within that time.
	RetryFor   time.Duration
	MaxBackoff time.Duration
	// Poll is how often an idle sender looks for new events.
	Poll time.Duration
	// Lanes is how many order keys of one subscriber are sent at once.
	Lanes int
}

func (a *Activities) webhooks() Webhooks {
	w := Webhooks{}
	if a.Webhooks != nil {
		w = *a.Webhooks
	}
	if w.Sender == nil {
		w.Sender = webhook.NewSender(10*time.Second, false)
	}
	if w.RetryFor <= 0 {
		w.RetryFor = 72 * time.Hour
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = time.Hour
	}
	if w.Poll <= 0 {
		w.Poll = 100 * time.Millisecond
	}
	if w.Lanes <= 0 {
		w.Lanes = 8
	}
	return w
}

// Backoff is the wait after a subscriber's n-th failed attempt at an
// event: 2 s, 6 s, 18 s… tripling, up to max.
func Backoff(n int, max time.Duration) time.Duration {
	d := 2 * time.Second
	for i := 1; i < n && d < max; i++ {
		d *= 3
	}
	return min(d, max)
}

// DeliverWebhooksInput bounds one run of the sender.
type DeliverWebhooksInput struct {
	For time.Duration
}

// DeliverWebhooksResult counts what a run did.
type DeliverWebhooksResult struct {
	Attempts  int
	Delivered int
}

// DeliverWebhooks sends the pending deliveries of every active subscriber
// until in.For has passed or the worker stops, then returns (the workflow
// runs it again). Per subscriber, the events of one order key go one at a
// time in their order: a key whose first event failed waits for its retry,
// other keys go on.
// Retry: every attempt is recorded, and a delivery stays pending until its
// 2xx is recorded; a run cut short sends again only what it had not
// recorded, with the same webhook-id (receivers deduplicate on it).
func (a *Activities) DeliverWebhooks(ctx context.Context, in DeliverWebhooksInput) (DeliverWebhooksResult, error) {
	w := a.webhooks()
	var res DeliverWebhooksResult
	end := time.Now().Add(in.For)
	stop := activity.GetWorkerStopChannel(ctx)
	for time.Now().Before(end) {
		activity.RecordHeartbeat(ctx, res)
		subs, err := a.Store.ActiveSubscribers(ctx)
		if err != nil {
			return res, err
		}
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs []error
			busy bool
		)
		for _, sub := range subs {
			wg.Go(func() {
				n, d, err := a.deliverRound(ctx, w, sub)
				mu.Lock()
				defer mu.Unlock()
				res.Attempts, res.Delivered = res.Attempts+n, res.Delivered+d
				busy = busy || n > 0
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return res, err
		}
		if busy {
			select {
			case <-stop:
				return res, nil
			default:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-stop:
			return res, nil
		case <-time.After(w.Poll):
		}
	}
	return res, nil
}

// deliverRound sends what is due for one subscriber now and records it.
func (a *Activities) deliverRound(ctx context.Context, w Webhooks, sub store.Subscriber) (attempts, delivered int, err error) {
	pending, err := a.Store.PendingDeliveries(ctx, sub.ID, 1000)
	if err != nil {
		return 0, 0, err
	}
	now := a.now()
	lanes := dueLanes(pending, now)
	if len(lanes) == 0 {
		return 0, 0, nil
	}
	secrets := sub.SigningSecrets(now)
	var (
		mu       sync.Mutex
		batch    []store.Attempt // attempts not recorded yet
		gone     bool
		flushErr error
	)
	// What was sent is recorded every flushEvery, not at the end of the
	// round: a worker that dies mid-round sends again only the last few
	// milliseconds' deliveries (with their ids).
	// A flush that fails (the database dropped the connection) keeps its
	// attempts and tries again on the next tick, for up to recordFor: the
	// round must not end with sent deliveries unrecorded, or the next
	// round posts them again.
	var failingSince time.Time
	flush := func() {
		mu.Lock()
		out := batch
		batch = nil
		mu.Unlock()
		if len(out) == 0 {
			return
		}
		if err := a.Store.RecordAttempts(context.WithoutCancel(ctx), out); err != nil {
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > recordFor {
				flushErr = err
				return
			}
			mu.Lock()
			batch = append(out, batch...)
			mu.Unlock()
			return
		}
		failingSince = time.Time{}
		for _, at := range out {
			telemetry.WebhookAttempt(at.Outcome)
			attempts++
			if at.Outcome == store.OutcomeDelivered {
				delivered++
			}
		}
	}
	next := make(chan []store.Delivery)
	sent := make(chan struct{})
	var wg sync.WaitGroup
	for range min(w.Lanes, len(lanes)) {
		wg.Go(func() {
			for lane := range next {
				for _, d := range lane {
					mu.Lock()
					stopped := gone
					mu.Unlock()
					if stopped || ctx.Err() != nil {
						break
					}
					at := a.attempt(ctx, w, sub, secrets, d)
					mu.Lock()
					batch = append(batch, at)
					gone = gone || at.Outcome == store.OutcomeGone
					mu.Unlock()
					if at.Outcome != store.OutcomeDelivered {
						break // the rest of this key waits for it
					}
				}
			}
		})
	}
	go func() {
		for _, l := range lanes {
			next <- l
		}
		close(next)
		wg.Wait()
		close(sent)
	}()
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	wait, allSent := sent, false
	for {
		select {
		case <-wait:
			wait, allSent = nil, true // every lane is done; what is left is to record
		case <-tick.C:
		}
		flush()
		if flushErr != nil {
			break
		}
		// A round against a slow receiver can outlast the heartbeat
		// timeout: beat while it runs, or a second sender would start.
		activity.RecordHeartbeat(ctx, nil)
		mu.Lock()
		recorded := len(batch) == 0
		mu.Unlock()
		if allSent && recorded {
			break
		}
	}
	if flushErr != nil {
		return attempts, delivered, flushErr
	}
	if gone {
		slog.WarnContext(ctx, "webhook subscriber answered 410 Gone: disabled", "subscriber", sub.ID, "url", sub.URL)
	}
	return attempts, delivered, nil
}

// flushEvery is how often a round records what it sent; recordFor is how
// long it keeps trying when the database is away.
const (
	flushEvery = 25 * time.Millisecond
	recordFor  = 30 * time.Second
)

// dueLanes groups pending deliveries by order key, in event order, and
// keeps the keys whose first delivery is due.
func dueLanes(pending []store.Delivery, now time.Time) [][]store.Delivery {
	idx := map[string]int{}
	blocked := map[string]bool{}
	var lanes [][]store.Delivery
	for _, d := range pending {
		k := d.Event.OrderKey
		if blocked[k] {
			continue
		}
		i, ok := idx[k]
		if !ok {
			if d.NextAttemptAt.After(now) {
				blocked[k] = true
				continue
			}
			idx[k], i = len(lanes), len(lanes)
			lanes = append(lanes, nil)
		}
		lanes[i] = append(lanes[i], d)
	}
	return lanes
}

// attempt posts one delivery and decides what comes next: a 2xx is
// delivered, a 410 disables the subscriber, anything else is retried
// after a backoff until RetryFor has passed since the event was queued.
func (a *Activities) attempt(ctx context.Context, w Webhooks, sub store.Subscriber, secrets []string, d store.Delivery) store.Attempt {
	body, err := d.Event.Body()
	at := store.Attempt{SubscriberID: sub.ID, EventSeq: d.Event.Seq, EventID: d.Event.ID, Attempt: d.Attempts + 1, At: a.now()}
	var r webhook.Result
	if err != nil {
		r.Err = err
	} else {
		r = w.Sender.Post(ctx, sub.URL, secrets, d.Event.ID, at.At, body)
	}
	at.StatusCode, at.LatencyMS, at.Response = r.StatusCode, r.Latency.Milliseconds(), r.Response
	if r.Err != nil {
		at.Error = r.Err.Error()
		if r.TimedOut {
			at.Error = "timed out (the receiver may have taken it; a retry has the same webhook-id): " + at.Error
		}
	}
	switch {
	case r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300:
		at.Outcome = store.OutcomeDelivered
	case r.StatusCode == 410:
		at.Outcome = store.OutcomeGone
		at.NextAttemptAt = at.At
	case at.At.Sub(d.FirstAt) >= w.RetryFor:
		at.Outcome = store.OutcomeFailed
	default:
		at.Outcome = store.OutcomeRetry
		at.NextAttemptAt = at.At.Add(Backoff(at.Attempt, w.MaxBackoff))
	}
	return at
}
