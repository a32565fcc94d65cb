package store

import (
	"context"
	"fmt"
	"time"
)

// Rate limits are fixed-window counters in the database, so every api
// process counts against the same limit. A bucket names a limit and whom it
// counts ("recovery-email:<hash>"); callers hash personal data before it
// becomes a bucket.

// Allow counts one request in a bucket that allows max per window, and
// says whether it is within the limit. When it is not, retryAfter is the
// time until the window restarts. One statement, atomic on both databases:
// concurrent requests each get their own count.
func (s *Store) Allow(ctx context.Context, bucket string, max int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	now := s.now()
	start := now.Truncate(window)
	var hits int
	// A process whose clock is behind never moves a window back: the later
	// window wins.
	err = s.db.WithContext(ctx).Raw(`INSERT INTO rate_limits (bucket, window_start, hits) VALUES (?, ?, 1)
		ON CONFLICT (bucket) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
			window_start = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.window_start ELSE excluded.window_start END
		RETURNING hits`, bucket, start).Scan(&hits).Error
	if err != nil {
		err = fmt.Errorf("store: rate limit: %w", translate(err))
		logErr(ctx, "Allow", err)
		return false, 0, err
	}
	if hits <= max {
		return true, 0, nil
	}
	return false, start.Add(window).Sub(now), nil
}

// PruneRateLimits removes the counters of windows that started before a
// time (they can count nothing any more); it returns how many went.
func (s *Store) PruneRateLimits(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM rate_limits WHERE window_start < ?`, before.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("store: prune rate limits: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}
