package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// Webhook subscribers and the record of their deliveries.

// Subscriber states.
const (
	SubscriberActive   = "active"
	SubscriberDisabled = "disabled"
)

// Why a subscriber was disabled.
const (
	DisabledByStaff = "disabled"
	DisabledGone    = "gone" // the receiver answered 410
)

// Secret is one signing secret; an expired one no longer signs.
type Secret struct {
	Secret    string     `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Subscriber is a receiver of domain events and how it is doing.
type Subscriber struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	Events              []string   `json:"events"`
	Status              string     `json:"status"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	LastSuccessAt       *time.Time `json:"last_success_at,omitempty"`
	LastFailureAt       *time.Time `json:"last_failure_at,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	// Backlog is how many events wait for it; Failed how many it never
	// took (the retries ran out).
	Backlog int64 `json:"backlog"`
	Failed  int64 `json:"failed"`
	// Secrets sign its deliveries; never shown but at creation and rotation.
	Secrets []Secret `json:"-"`
}

// SigningSecrets are the secrets that sign now: the newest and those still
// in their rotation window.
func (s Subscriber) SigningSecrets(now time.Time) []string {
	var out []string
	for _, sec := range s.Secrets {
		if sec.ExpiresAt == nil || sec.ExpiresAt.After(now) {
			out = append(out, sec.Secret)
		}
	}
	return out
}

type subscriberRow struct {
	ID                  string
	URL                 string
	Events              string
	Secrets             string
	Status              string
	DisabledReason      string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	LastSuccessAt       *time.Time
	LastFailureAt       *time.Time
	ConsecutiveFailures int
}

func (subscriberRow) TableName() string { return "webhook_subscribers" }

func (r subscriberRow) patterns() []string {
	var p []string
	_ = json.Unmarshal([]byte(r.Events), &p)
	return p
}

func (r subscriberRow) domain() Subscriber {
	s := Subscriber{ID: r.ID, URL: r.URL, Events: r.patterns(), Status: r.Status, DisabledReason: r.DisabledReason,
		CreatedAt: r.CreatedAt.UTC(), LastSuccessAt: r.LastSuccessAt, LastFailureAt: r.LastFailureAt,
		ConsecutiveFailures: r.ConsecutiveFailures}
	_ = json.Unmarshal([]byte(r.Secrets), &s.Secrets)
	return s
}

// CreateSubscriber adds an active subscriber; it receives the events
// written from now on.
func (s *Store) CreateSubscriber(ctx context.Context, url string, patterns []string, secret string) (Subscriber, error) {
	ev, _ := json.Marshal(patterns)
	sec, _ := json.Marshal([]Secret{{Secret: secret}})
	now := s.now()
	r := subscriberRow{ID: "whsub_" + certdesk.NewID(), URL: url, Events: string(ev), Secrets: string(sec), Status: SubscriberActive,
		CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return Subscriber{}, fmt.Errorf("store: create subscriber: %w", translate(err))
	}
	return r.domain(), nil
}

// Subscribers lists every subscriber with its backlog, oldest first.
func (s *Store) Subscribers(ctx context.Context) ([]Subscriber, error) {
	var rows []subscriberRow
	if err := s.db.WithContext(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: subscribers: %w", translate(err))
	}
	type count struct {
		SubscriberID string
		Status       string
		N            int64
	}
	var counts []count
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).Select("subscriber_id, status, count(*) AS n").
		Where("status IN ?", []string{DeliveryPending, DeliveryFailed}).Group("subscriber_id, status").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("store: subscriber backlogs: %w", translate(err))
	}
	out := make([]Subscriber, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		for _, c := range counts {
			switch {
			case c.SubscriberID != r.ID:
			case c.Status == DeliveryPending:
				out[i].Backlog = c.N
			default:
				out[i].Failed = c.N
			}
		}
	}
	return out, nil
}

// ActiveSubscribers lists the active subscribers, without their counts
// (the sender's every round: cheap).
func (s *Store) ActiveSubscribers(ctx context.Context) ([]Subscriber, error) {
	var rows []subscriberRow
	if err := s.db.WithContext(ctx).Where("status = ?", SubscriberActive).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: active subscribers: %w", translate(err))
	}
	out := make([]Subscriber, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Subscriber returns one subscriber with its backlog.
func (s *Store) Subscriber(ctx context.Context, id string) (Subscriber, error) {
	all, err := s.Subscribers(ctx)
	if err != nil {
		return Subscriber{}, err
	}
	for _, sub := range all {
		if sub.ID == id {
			return sub, nil
		}
	}
	return Subscriber{}, certdesk.Errorf(certdesk.ENOTFOUND, "no webhook subscriber has the id %s", id)
}

// RotateSecret makes secret the subscriber's signing secret; the ones
// before it keep signing (beside it) until keepOld has passed, so a
// receiver can switch without losing a delivery.
func (s *Store) RotateSecret(ctx context.Context, id, secret string, keepOld time.Duration) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r subscriberRow
		if err := s.forUpdate(tx).Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		now := s.now()
		until := now.Add(keepOld)
		secrets := []Secret{{Secret: secret}}
		for _, old := range r.domain().Secrets {
			if old.ExpiresAt == nil || old.ExpiresAt.After(until) {
				old.ExpiresAt = &until
			}
			if old.ExpiresAt.After(now) {
				secrets = append(secrets, old)
			}
		}
		b, _ := json.Marshal(secrets)
		return tx.Model(&subscriberRow{}).Where("id = ?", id).Updates(map[string]any{"secrets": string(b), "updated_at": now}).Error
	})
	if err != nil {
		return fmt.Errorf("store: rotate the secret of %q: %w", id, notFoundAs(err, "no webhook subscriber has the id %s", id))
	}
	return nil
}

// SetSubscriberStatus disables a subscriber (reason says why) or makes it
// active again. A disabled subscriber keeps what was queued for it before
// (made active, it gets that, in order) but nothing written meanwhile is
// queued for it: `certdesk webhooks replay --since` sends that.
func (s *Store) SetSubscriberStatus(ctx context.Context, id, status, reason string) error {
	if status == SubscriberActive {
		reason = ""
	}
	res := s.db.WithContext(ctx).Model(&subscriberRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "disabled_reason": reason, "updated_at": s.now()})
	if res.Error != nil {
		return fmt.Errorf("store: set subscriber %q %s: %w", id, status, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return certdesk.Errorf(certdesk.ENOTFOUND, "no webhook subscriber has the id %s", id)
	}
	return nil
}

// Replay queues again, for one subscriber, every event since a time (of
// one type, when given) that its patterns take: delivered or not, each
// goes again, in order, with its own id. It returns how many.
func (s *Store) Replay(ctx context.Context, id string, since time.Time, t certdesk.DomainEventType) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r subscriberRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		patterns := r.patterns()
		now := s.now()
		q := tx.Model(&eventRow{}).Select("seq, type, order_key").Where("created_at >= ?", since.UTC()).Order("seq")
		if t != "" {
			q = q.Where("type = ?", t)
		}
		var evs []eventRow
		if err := q.Find(&evs).Error; err != nil {
			return err
		}
		var ds []deliveryRow
		for _, e := range evs {
			if certdesk.MatchesAny(patterns, e.Type) {
				ds = append(ds, deliveryRow{SubscriberID: id, EventSeq: e.Seq, OrderKey: e.OrderKey, Status: DeliveryPending, CreatedAt: now, NextAttemptAt: now})
			}
		}
		n = len(ds)
		if n == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "subscriber_id"}, {Name: "event_seq"}},
			DoUpdates: clause.Assignments(map[string]any{"status": DeliveryPending, "attempts": 0, "created_at": now, "next_attempt_at": now, "delivered_at": nil}),
		}).CreateInBatches(&ds, 500).Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: replay for %q: %w", id, notFoundAs(err, "no webhook subscriber has the id %s", id))
	}
	return n, nil
}

// Resend queues one event again for one subscriber (a supervisor's
// "send again").
func (s *Store) Resend(ctx context.Context, subscriberID, eventID string) error {
	e, err := s.DomainEvent(ctx, eventID)
	if err != nil {
		return err
	}
	now := s.now()
	d := deliveryRow{SubscriberID: subscriberID, EventSeq: e.Seq, OrderKey: e.OrderKey, Status: DeliveryPending, CreatedAt: now, NextAttemptAt: now}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "subscriber_id"}, {Name: "event_seq"}},
		DoUpdates: clause.Assignments(map[string]any{"status": DeliveryPending, "attempts": 0, "created_at": now, "next_attempt_at": now, "delivered_at": nil}),
	}).Create(&d).Error
	if err != nil {
		return fmt.Errorf("store: resend %q to %q: %w", eventID, subscriberID, notFoundAs(translate(err), "no webhook subscriber has the id %s", subscriberID))
	}
	return nil
}

// notFoundAs words a missing row for the caller; a foreign key that names
// nothing is a missing row too.
func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, certdesk.ErrNotFound) || (errors.Is(err, certdesk.ErrConflict) && certdesk.ErrorCode(err) == certdesk.ECONFLICT) {
		return certdesk.Errorf(certdesk.ENOTFOUND, format, args...)
	}
	return err
}

// Delivery is one event due for one subscriber.
type Delivery struct {
	SubscriberID  string
	Event         certdesk.DomainEvent
	Attempts      int
	NextAttemptAt time.Time
	FirstAt       time.Time
}

// PendingDeliveries returns up to limit of a subscriber's pending
// deliveries, in event order, due or not (the sender keeps each order
// key's order: a key whose first is not due waits).
func (s *Store) PendingDeliveries(ctx context.Context, subscriberID string, limit int) ([]Delivery, error) {
	var rows []struct {
		EventSeq      int64
		Attempts      int
		NextAttemptAt time.Time
		DCreatedAt    time.Time
		ID            string
		Type          certdesk.DomainEventType
		Version       int
		CreatedAt     time.Time
		OrderKey      string
		Data          json.RawMessage
	}
	err := s.db.WithContext(ctx).Table("webhook_deliveries d").
		Select("d.event_seq, d.attempts, d.next_attempt_at, d.created_at AS d_created_at, e.id, e.type, e.version, e.created_at, e.order_key, e.data").
		Joins("JOIN domain_events e ON e.seq = d.event_seq").
		Where("d.subscriber_id = ? AND d.status = ?", subscriberID, DeliveryPending).
		Order("d.event_seq").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries of %q: %w", subscriberID, translate(err))
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = Delivery{SubscriberID: subscriberID, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), FirstAt: r.DCreatedAt.UTC(),
			Event: certdesk.DomainEvent{ID: r.ID, Seq: r.EventSeq, Type: r.Type, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), OrderKey: r.OrderKey, Data: r.Data}}
	}
	return out, nil
}

// Attempt is one delivery attempt and what came of it.
type Attempt struct {
	SubscriberID string    `json:"subscriber_id"`
	EventSeq     int64     `json:"-"`
	EventID      string    `json:"event_id"`
	Attempt      int       `json:"attempt"`
	At           time.Time `json:"at"`
	StatusCode   int       `json:"status_code"`
	LatencyMS    int64     `json:"latency_ms"`
	Error        string    `json:"error,omitempty"`
	Response     string    `json:"response,omitempty"`
	// The outcome: delivered, retry at NextAttemptAt, failed (the retries
	// ran out), or gone (410: the subscriber is disabled).
	Outcome       string    `json:"outcome"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
	OutcomeGone      = "gone"
)

type attemptRow struct {
	ID           string
	SubscriberID string
	EventSeq     int64
	Attempt      int
	At           time.Time
	StatusCode   int
	LatencyMS    int64 `gorm:"column:latency_ms"`
	Error        string
	Response     string
}

func (attemptRow) TableName() string { return "webhook_attempts" }

// RecordAttempts records a batch of attempts, in one transaction: each
// attempt's row, its delivery's new state, and the subscriber's health (a
// 410 disables it).
func (s *Store) RecordAttempts(ctx context.Context, as []Attempt) error {
	if len(as) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		rows := make([]attemptRow, len(as))
		for i, a := range as {
			rows[i] = attemptRow{ID: certdesk.NewID(), SubscriberID: a.SubscriberID, EventSeq: a.EventSeq, Attempt: a.Attempt, At: a.At.UTC(),
				StatusCode: a.StatusCode, LatencyMS: a.LatencyMS, Error: storable(a.Error), Response: storable(a.Response)}
		}
		if err := tx.CreateInBatches(&rows, 500).Error; err != nil {
			return err
		}
		type outcome struct {
			lastSuccess, lastFailure *time.Time
			failuresAfter            int // failures after the batch's last success
			succeeded, gone          bool
		}
		health := map[string]*outcome{}
		for _, a := range as {
			set := map[string]any{"attempts": a.Attempt}
			switch a.Outcome {
			case OutcomeDelivered:
				set["status"], set["delivered_at"] = DeliveryDelivered, a.At.UTC()
			case OutcomeFailed:
				set["status"] = DeliveryFailed
			default:
				set["next_attempt_at"] = a.NextAttemptAt.UTC()
			}
			err := tx.Model(&deliveryRow{}).Where("subscriber_id = ? AND event_seq = ? AND status = ?", a.SubscriberID, a.EventSeq, DeliveryPending).
				Updates(set).Error
			if err != nil {
				return err
			}
			o := health[a.SubscriberID]
			if o == nil {
				o = &outcome{}
				health[a.SubscriberID] = o
			}
			at := a.At.UTC()
			if a.Outcome == OutcomeDelivered {
				if o.lastSuccess == nil || at.After(*o.lastSuccess) {
					o.lastSuccess = &at
				}
				o.succeeded, o.failuresAfter = true, 0
			} else {
				if o.lastFailure == nil || at.After(*o.lastFailure) {
					o.lastFailure = &at
				}
				o.failuresAfter++
			}
			o.gone = o.gone || a.Outcome == OutcomeGone
		}
		for id, o := range health {
			h := map[string]any{"updated_at": s.now()}
			if o.lastSuccess != nil {
				h["last_success_at"] = *o.lastSuccess
			}
			if o.lastFailure != nil {
				h["last_failure_at"] = *o.lastFailure
			}
			if o.succeeded {
				h["consecutive_failures"] = o.failuresAfter
			} else {
				h["consecutive_failures"] = gorm.Expr("consecutive_failures + ?", o.failuresAfter)
			}
			if o.gone {
				h["status"], h["disabled_reason"] = SubscriberDisabled, DisabledGone
			}
			if err := tx.Model(&subscriberRow{}).Where("id = ?", id).Updates(h).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record delivery attempts: %w", err)
	}
	return nil
}

// Attempts returns the attempts to deliver these events, oldest first.
func (s *Store) Attempts(ctx context.Context, eventIDs ...string) ([]Attempt, error) {
	var rows []struct {
		SubscriberID string
		EventSeq     int64
		EventID      string
		Attempt      int
		At           time.Time
		StatusCode   int
		LatencyMS    int64 `gorm:"column:latency_ms"`
		Error        string
		Response     string
	}
	err := s.db.WithContext(ctx).Table("webhook_attempts a").
		Select("a.subscriber_id, a.event_seq, e.id AS event_id, a.attempt, a.at, a.status_code, a.latency_ms, a.error, a.response").
		Joins("JOIN domain_events e ON e.seq = a.event_seq").Where("e.id IN ?", eventIDs).Order("a.at, a.attempt, a.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: delivery attempts: %w", translate(err))
	}
	out := make([]Attempt, len(rows))
	for i, r := range rows {
		out[i] = Attempt{SubscriberID: r.SubscriberID, EventSeq: r.EventSeq, EventID: r.EventID, Attempt: r.Attempt, At: r.At.UTC(),
			StatusCode: r.StatusCode, LatencyMS: r.LatencyMS, Error: r.Error, Response: r.Response}
		switch {
		case r.StatusCode >= 200 && r.StatusCode < 300:
			out[i].Outcome = OutcomeDelivered
		case r.StatusCode == 410:
			out[i].Outcome = OutcomeGone
		default:
			out[i].Outcome = OutcomeRetry
		}
	}
	return out, nil
}

// WebhookReceipt is what dev mode's receiver got.
type WebhookReceipt struct {
	ID         string            `json:"id"`
	EventID    string            `json:"event_id"`
	ReceivedAt time.Time         `json:"received_at"`
	Headers    map[string]string `json:"headers" gorm:"serializer:json"`
	Body       string            `json:"body"`
	Verified   bool              `json:"verified"`
	Problem    string            `json:"problem,omitempty"`
}

func (WebhookReceipt) TableName() string { return "dev_webhook_receipts" }

// SaveWebhookReceipt keeps one received delivery.
func (s *Store) SaveWebhookReceipt(ctx context.Context, r *WebhookReceipt) error {
	r.ID, r.ReceivedAt = certdesk.NewID(), s.now()
	r.Body, r.Problem = storable(r.Body), storable(r.Problem)
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("store: save webhook receipt: %w", translate(err))
	}
	return nil
}

// WebhookReceipts returns the receipts of these events, oldest first.
func (s *Store) WebhookReceipts(ctx context.Context, eventIDs []string) ([]WebhookReceipt, error) {
	var out []WebhookReceipt
	if len(eventIDs) == 0 {
		return out, nil
	}
	if err := s.db.WithContext(ctx).Where("event_id IN ?", eventIDs).Order("received_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: webhook receipts: %w", translate(err))
	}
	return out, nil
}

// SubscriberByURL returns the subscriber that posts to url.
func (s *Store) SubscriberByURL(ctx context.Context, url string) (Subscriber, error) {
	var r subscriberRow
	if err := s.db.WithContext(ctx).Where("url = ?", url).Order("created_at").Take(&r).Error; err != nil {
		return Subscriber{}, fmt.Errorf("store: subscriber of %q: %w", url, translate(err))
	}
	return r.domain(), nil
}

// RecentEvents returns the newest events first, up to limit.
func (s *Store) RecentEvents(ctx context.Context, limit int) ([]certdesk.DomainEvent, error) {
	var rows []eventRow
	if err := s.db.WithContext(ctx).Order("seq DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: recent events: %w", translate(err))
	}
	out := make([]certdesk.DomainEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
