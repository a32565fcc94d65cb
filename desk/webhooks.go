package desk

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/webhook"
)

// DevReceiverPath is where dev mode's built-in webhook receiver listens;
// dev mode subscribes it to every event.
const DevReceiverPath = "/dev/webhooks/receive"

// EnsureDevSubscriber subscribes dev mode's receiver (at publicURL) to
// every event, once; the receiver of an earlier address (dev ran on
// another port) is disabled.
func EnsureDevSubscriber(ctx context.Context, st *store.Store, publicURL string) error {
	url := publicURL + DevReceiverPath
	subs, err := st.Subscribers(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, sub := range subs {
		switch {
		case sub.URL == url:
			found = true
		case strings.HasSuffix(sub.URL, DevReceiverPath) && sub.Status == store.SubscriberActive:
			if err := st.SetSubscriberStatus(ctx, sub.ID, store.SubscriberDisabled, store.DisabledByStaff); err != nil {
				return err
			}
		}
	}
	if found {
		return nil
	}
	_, err = st.CreateSubscriber(ctx, url, []string{"*"}, webhook.NewSecret())
	return err
}

// ReceiveDevWebhook is dev mode's receiver: it checks the delivery as a
// receiver would (the dev subscriber's secrets, the timestamp) and keeps
// it, verified or not, for /dev/webhooks.
func (s *Desk) ReceiveDevWebhook(ctx context.Context, headers map[string]string, body []byte) (store.WebhookReceipt, error) {
	r := store.WebhookReceipt{EventID: headers[webhook.HeaderID], Headers: headers, Body: string(body)}
	var env struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &env) == nil && r.EventID == "" {
		r.EventID = env.ID
	}
	sub, err := s.store.SubscriberByURL(ctx, s.cfg.PublicURL+DevReceiverPath)
	if err != nil {
		return r, err
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	r.Problem = "no secret of the dev subscriber verifies it"
	for _, sec := range sub.SigningSecrets(s.now()) {
		err := webhook.Verify(sec, h, body, s.now())
		if err == nil {
			r.Verified, r.Problem = true, ""
			break
		}
		r.Problem = err.Error()
	}
	if env.ID != "" && env.ID != r.EventID {
		r.Verified, r.Problem = false, "the body's id is not the webhook-id"
	}
	return r, s.store.SaveWebhookReceipt(ctx, &r)
}

// DevWebhookEvent is one event as dev mode shows it: what the receiver got
// and every attempt at it.
type DevWebhookEvent struct {
	Event    certdesk.DomainEvent   `json:"event"`
	Receipts []store.WebhookReceipt `json:"receipts"`
	Attempts []store.Attempt        `json:"attempts"`
}

// DevWebhooks lists the newest events (up to 200), each with its receipts
// and attempts.
func (s *Desk) DevWebhooks(ctx context.Context) ([]DevWebhookEvent, error) {
	evs, err := s.store.RecentEvents(ctx, 200)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	receipts, err := s.store.WebhookReceipts(ctx, ids)
	if err != nil {
		return nil, err
	}
	attempts, err := s.store.Attempts(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]DevWebhookEvent, len(evs))
	at := map[string]int{}
	for i, e := range evs {
		out[i] = DevWebhookEvent{Event: e, Receipts: []store.WebhookReceipt{}, Attempts: []store.Attempt{}}
		at[e.ID] = i
	}
	for _, r := range receipts {
		if i, ok := at[r.EventID]; ok {
			out[i].Receipts = append(out[i].Receipts, r)
		}
	}
	for _, a := range attempts {
		if i, ok := at[a.EventID]; ok {
			out[i].Attempts = append(out[i].Attempts, a)
		}
	}
	return out, nil
}

func supervisorOnly(p *certdesk.Principal, what string) error {
	if p == nil || p.Role != certdesk.RoleSupervisor {
		return certdesk.Errorf(certdesk.EFORBIDDEN, "%s are for supervisors", what)
	}
	return nil
}

// Subscribers are the webhook subscribers and their health, for
// supervisors, with the newest events (up to 50).
func (s *Desk) Subscribers(ctx context.Context, p *certdesk.Principal) ([]store.Subscriber, []certdesk.DomainEvent, error) {
	if err := supervisorOnly(p, "the webhook subscribers"); err != nil {
		return nil, nil, err
	}
	subs, err := s.store.Subscribers(ctx)
	if err != nil {
		return nil, nil, err
	}
	evs, err := s.store.RecentEvents(ctx, 50)
	return subs, evs, err
}

// SubscriberDelivery is one subscriber's part of an event's delivery log.
type SubscriberDelivery struct {
	Subscriber store.Subscriber
	Attempts   []store.Attempt
	Delivered  bool
}

// EventDeliveries is one event's delivery log, for supervisors: the event
// and, per subscriber, every attempt at it.
func (s *Desk) EventDeliveries(ctx context.Context, p *certdesk.Principal, eventID string) (certdesk.DomainEvent, []SubscriberDelivery, error) {
	if err := supervisorOnly(p, "delivery logs"); err != nil {
		return certdesk.DomainEvent{}, nil, err
	}
	e, err := s.store.DomainEvent(ctx, eventID)
	if err != nil {
		return e, nil, err
	}
	as, err := s.store.Attempts(ctx, eventID)
	if err != nil {
		return e, nil, err
	}
	subs, err := s.store.Subscribers(ctx)
	if err != nil {
		return e, nil, err
	}
	out := make([]SubscriberDelivery, len(subs))
	for i, sub := range subs {
		out[i].Subscriber = sub
		for _, a := range as {
			if a.SubscriberID == sub.ID {
				out[i].Attempts = append(out[i].Attempts, a)
				out[i].Delivered = out[i].Delivered || a.Outcome == store.OutcomeDelivered
			}
		}
	}
	return e, out, nil
}

// Resend queues an event again for one subscriber (a supervisor's "send
// again"); audited.
func (s *Desk) Resend(ctx context.Context, p *certdesk.Principal, subscriberID, eventID string) (err error) {
	if err := supervisorOnly(p, "re-sends"); err != nil {
		return err
	}
	defer func() {
		s.auditAction(ctx, p, "resend_event", certdesk.Case{}, map[string]any{"subscriber": subscriberID, "event": eventID}, err)
	}()
	if _, err := s.store.Subscriber(ctx, subscriberID); err != nil {
		return err
	}
	return s.store.Resend(ctx, subscriberID, eventID)
}
