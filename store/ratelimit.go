package store

import (
	"context"
	"fmt"
	"time"
)

// Rate limits are sliding-window counters in the database, so every api
// process counts against the same limit. A bucket names a limit and whom it
// counts ("recovery-email:<hash>"); callers hash personal data before it
// becomes a bucket. Each bucket holds the count of the current fixed window
// and of the one before; a request is counted against the previous window's
// count weighted by the part of it still inside the last Window, plus the
// current one (the sliding-window counter: no burst of twice the limit
// across a window boundary, as fixed clock windows allow).

// Allow counts one request in a bucket that allows max per window, and
// says whether it is within the limit. When it is not, retryAfter is how
// long until a request would be. One statement, atomic on both databases:
// concurrent requests each get their own count.
func (s *Store) Allow(ctx context.Context, bucket string, max int, window time.Duration) (ok bool, retryAfter time.Duration, err error) {
	now := s.now()
	start := now.Truncate(window)
	var row struct {
		Hits, PrevHits int
	}
	// A process whose clock is behind never moves a window back: the later
	// window wins. The window just before the current one becomes the
	// previous count; an older one counts nothing any more.
	err = s.db.WithContext(ctx).Raw(`INSERT INTO rate_limits (bucket, window_start, hits, prev_hits) VALUES (?, ?, 1, 0)
		ON CONFLICT (bucket) DO UPDATE SET
			prev_hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.prev_hits
				WHEN rate_limits.window_start >= ? THEN rate_limits.hits ELSE 0 END,
			hits = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
			window_start = CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.window_start ELSE excluded.window_start END
		RETURNING hits, prev_hits`, bucket, start, start.Add(-window)).Scan(&row).Error
	if err != nil {
		err = fmt.Errorf("store: rate limit: %w", translate(err))
		logErr(ctx, "Allow", err)
		return false, 0, err
	}
	ok, retryAfter = slidingWindow(row.Hits, row.PrevHits, max, now.Sub(start), window)
	return ok, retryAfter, nil
}

// slidingWindow decides a request: hits in the current window (elapsed
// into it), prev in the one before. Over the limit, it says how long until
// the weighted count is back within it, if no other request comes.
func slidingWindow(hits, prev, limit int, elapsed, window time.Duration) (bool, time.Duration) {
	elapsed = min(max(elapsed, 0), window)
	left := 1 - float64(elapsed)/float64(window)
	if float64(prev)*left+float64(hits) <= float64(limit) {
		return true, 0
	}
	if hits > limit {
		// The current window alone is over: wait into the next one until
		// this window's weight has fallen far enough.
		next := time.Duration(float64(window) * (1 - float64(limit)/float64(hits)))
		return false, max(window-elapsed+next, time.Second)
	}
	// The previous window's weight has to fall until the sum fits.
	until := time.Duration(float64(window) * (1 - float64(limit-hits)/float64(prev)))
	return false, max(until-elapsed, time.Second)
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
