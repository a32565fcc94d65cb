package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Redacted is what replaces personal data once a case's retention is over.
const Redacted = "[redacted]"

// RedactEndedCases removes the personal data of up to limit cases that
// ended before the cutoff, in one transaction, and returns how many it
// redacted (0: none left). Each keeps its shape for statistics — kind,
// status, resolution, dates, SLA, flags, the ids it links and the type,
// time and actor's role of every timeline event — while its subject, the
// learner's name and address, its details, the events' data, the
// conversation (texts, addresses, files), its emails' addresses and its
// audit entries' data go; the snapshot of a merge (the undo's window is
// long over) is deleted. A redacted case reads "[redacted]" as its
// subject, which is also how a later run skips it.
func (s *Store) RedactEndedCases(ctx context.Context, endedBefore time.Time, limit int) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Model(&caseRow{}).Where("closed_at IS NOT NULL AND closed_at < ? AND subject <> ?", endedBefore.UTC(), Redacted).
			Order("closed_at, id").Limit(max(1, limit)).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if n = len(ids); n == 0 {
			return nil
		}
		return s.redactCases(tx, ids)
	})
	if err != nil {
		return 0, fmt.Errorf("store: redact ended cases: %w", err)
	}
	return n, nil
}
