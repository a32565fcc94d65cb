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
		// An empty JSON object as each dialect stores JSON: JSONB, or the
		// bytes SQLite keeps (a TEXT value would not scan back).
		empty, obj := "?", []any{[]byte("{}")}
		if s.dialect == "postgres" {
			empty, obj = "'{}'::jsonb", nil
		}
		with := func(args ...any) []any { return append(append([]any(nil), obj...), args...) }
		now := s.now().UTC()
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE cases SET subject = ?, learner_name = ?, learner_email = '', details = ` + empty + ` WHERE id IN ?`, append([]any{Redacted, Redacted}, with(ids)...)},
			// The actor keeps its role: learner:<account id> and agent:<id>
			// name no one by themselves; an email actor is an address.
			{`UPDATE case_events SET data = ` + empty + `, actor = CASE WHEN actor LIKE 'email:%' THEN 'email:` + Redacted + `' ELSE actor END WHERE case_id IN ?`, with(ids)},
			{`UPDATE messages SET body = ?, from_addr = '', to_addr = '', subject = '', held_reason = '' WHERE case_id IN ?`, []any{Redacted, ids}},
			{`UPDATE attachments SET data = NULL, filename = ?, purged_at = COALESCE(purged_at, ?) WHERE case_id IN ?`, []any{Redacted, now, ids}},
			{`UPDATE emails SET to_addr = ?, subject = '', last_error = '' WHERE case_id IN ?`, []any{Redacted, ids}},
			{`UPDATE captured_mails SET to_addr = ?, reply_to = '', subject = ?, html = '', text = ? WHERE case_id IN ?`, []any{Redacted, Redacted, Redacted, ids}},
			{`UPDATE audit_log SET data = ` + empty + ` WHERE case_id IN ?`, with(ids)},
			{`DELETE FROM merge_snapshots WHERE case_id IN ?`, []any{ids}},
		} {
			if err := tx.Exec(st.sql, st.args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: redact ended cases: %w", err)
	}
	return n, nil
}
