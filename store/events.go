package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// The outbox: a domain change writes its event in its own transaction
// (emit), with a delivery row for each active subscriber that takes it.

type eventRow struct {
	Seq       int64 `gorm:"primaryKey;autoIncrement"`
	ID        string
	Type      certdesk.DomainEventType
	Version   int
	CreatedAt time.Time
	OrderKey  string
	DedupeKey string
	Data      json.RawMessage
}

func (eventRow) TableName() string { return "domain_events" }

func (r eventRow) domain() certdesk.DomainEvent {
	return certdesk.DomainEvent{ID: r.ID, Seq: r.Seq, Type: r.Type, Version: r.Version, CreatedAt: r.CreatedAt.UTC(),
		OrderKey: r.OrderKey, DedupeKey: r.DedupeKey, Data: r.Data}
}

type deliveryRow struct {
	SubscriberID  string `gorm:"primaryKey"`
	EventSeq      int64  `gorm:"primaryKey"`
	OrderKey      string
	Status        string
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	DeliveredAt   *time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// emit writes a domain event in the caller's transaction and queues it for
// every active subscriber that takes its type. An event whose dedupe key
// was written before (a retried step) writes nothing.
func (s *Store) emit(tx *gorm.DB, t certdesk.DomainEventType, orderKey, dedupeKey string, data any) error {
	now := s.now()
	e, err := certdesk.NewDomainEvent(t, now, orderKey, dedupeKey, data)
	if err != nil {
		return err
	}
	row := eventRow{ID: e.ID, Type: e.Type, Version: e.Version, CreatedAt: now, OrderKey: orderKey, DedupeKey: dedupeKey, Data: e.Data}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedupe_key"}}, DoNothing: true}).Create(&row)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	var subs []subscriberRow
	if err := tx.Select("id, events").Where("status = ?", SubscriberActive).Find(&subs).Error; err != nil {
		return err
	}
	var ds []deliveryRow
	for _, sub := range subs {
		if certdesk.MatchesAny(sub.patterns(), t) {
			ds = append(ds, deliveryRow{SubscriberID: sub.ID, EventSeq: row.Seq, OrderKey: orderKey, Status: DeliveryPending,
				CreatedAt: now, NextAttemptAt: now})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.Create(&ds).Error
}

// EventFilter selects events: since a time, of one type, after a seq.
type EventFilter struct {
	Since    time.Time
	Type     certdesk.DomainEventType
	AfterSeq int64
	Limit    int
}

// DomainEvents returns events oldest first.
func (s *Store) DomainEvents(ctx context.Context, f EventFilter) ([]certdesk.DomainEvent, error) {
	q := s.db.WithContext(ctx).Order("seq")
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.AfterSeq > 0 {
		q = q.Where("seq > ?", f.AfterSeq)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []eventRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: domain events: %w", translate(err))
	}
	out := make([]certdesk.DomainEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DomainEvent returns one event by its id.
func (s *Store) DomainEvent(ctx context.Context, id string) (certdesk.DomainEvent, error) {
	var r eventRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return certdesk.DomainEvent{}, fmt.Errorf("store: domain event %q: %w", id, translate(err))
	}
	return r.domain(), nil
}
