package store

import (
	"context"
	"fmt"

	"github.com/certdesk/certdesk"
)

// Figures are the counts the worker's /metrics reports: kinds, statuses,
// purposes and counts only, never ids, names or addresses.
type Figures struct {
	// OpenCases are the cases not yet ended, by kind, status, whether they
	// are escalated and whether their SLA is past.
	OpenCases []OpenCases
	// Emails are every email's current status by message kind.
	Emails []EmailCount
	// LinksUsed are the links used, ever, by purpose.
	LinksUsed []LinkCount
	// Deliveries are the webhook deliveries by status (pending, delivered,
	// failed).
	Deliveries []DeliveryCount
}

// OpenCases is a number of open cases of one kind, status and flags.
type OpenCases struct {
	Kind      certdesk.Kind
	Status    certdesk.Status
	Escalated bool
	PastSLA   bool // an SLA is set and due before now
	N         int64
}

// EmailCount is a number of emails of one kind in one status.
type EmailCount struct {
	Kind, Status string
	N            int64
}

// LinkCount is a number of used links of one purpose.
type LinkCount struct {
	Purpose string
	N       int64
}

// DeliveryCount is a number of webhook deliveries in one status.
type DeliveryCount struct {
	Status string
	N      int64
}

// Figures reads the figures: one GROUP BY per table. The open cases are
// found through the (status, id) index; emails, link tokens and webhook
// deliveries are counted whole (their rows are never deleted), which is
// why the worker keeps the answer for a while (telemetry.FiguresTTL).
func (s *Store) Figures(ctx context.Context) (f Figures, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: figures: %w", translate(err))
		}
	}()
	var open []certdesk.Status
	for _, st := range certdesk.Statuses {
		if !st.Terminal() {
			open = append(open, st)
		}
	}
	db := s.db.WithContext(ctx)
	// Ordinals, not aliases, in GROUP BY: both PostgreSQL and SQLite take them.
	if err = db.Raw(`SELECT kind, status, escalated, (sla_due_at IS NOT NULL AND sla_due_at < ?) AS past_sla, COUNT(*) AS n
		FROM cases WHERE status IN ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, s.now(), open).Scan(&f.OpenCases).Error; err != nil {
		return f, err
	}
	if err = db.Raw(`SELECT kind, status, COUNT(*) AS n FROM emails GROUP BY 1, 2 ORDER BY 1, 2`).Scan(&f.Emails).Error; err != nil {
		return f, err
	}
	if err = db.Raw(`SELECT purpose, COUNT(*) AS n FROM link_tokens WHERE used_at IS NOT NULL GROUP BY 1 ORDER BY 1`).
		Scan(&f.LinksUsed).Error; err != nil {
		return f, err
	}
	err = db.Raw(`SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY 1 ORDER BY 1`).Scan(&f.Deliveries).Error
	return f, err
}
