// Package limit counts requests against rate limits, in the store so that
// every api process counts against the same limit: per client address for
// the public, abusable endpoints, per mailbox for the recovery form.
package limit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// Limit is a rate limit: at most Max requests in any Window for one
// subject (a client address, a mailbox…).
type Limit struct {
	Name   string
	Max    int
	Window time.Duration // at most a day: the daily sweep prunes older counters
}

// Limiter counts requests in the store. Subjects are hashed with a key
// derived from the secret before they are stored: the table holds no
// addresses.
type Limiter struct {
	Store  *store.Store
	Secret string
}

// Check counts a request of a subject against a limit. Over it, the error
// is ERATELIMITED and retry says when to try again.
func (l *Limiter) Check(ctx context.Context, lim Limit, subject string) (retry time.Duration, err error) {
	m := hmac.New(sha256.New, []byte(l.Secret))
	m.Write([]byte("certdesk rate limit\x00" + lim.Name + "\x00" + subject))
	bucket := lim.Name + ":" + hex.EncodeToString(m.Sum(nil)[:16])
	ok, after, err := l.Store.Allow(ctx, bucket, lim.Max, lim.Window)
	if err != nil {
		return 0, err
	}
	if ok {
		return 0, nil
	}
	secs := max(1, int(math.Ceil(after.Seconds())))
	retry = time.Duration(secs) * time.Second
	return retry, &certdesk.Error{Code: certdesk.ERATELIMITED, Message: "too many requests; try again in " + Roughly(retry), Err: retryAfter(retry)}
}

// retryAfter is how long a limited caller waits; respond.Fail answers it as
// Retry-After.
type retryAfter time.Duration

func (r retryAfter) Error() string             { return "retry after " + time.Duration(r).String() }
func (r retryAfter) RetryAfter() time.Duration { return time.Duration(r) }

// Roughly says a time in words: "40 seconds", "12 minutes", "24 hours".
func Roughly(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return strconv.Itoa(int(math.Ceil(d.Seconds()))) + " seconds"
	case d < 2*time.Hour:
		return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
	}
	return strconv.Itoa(int(math.Ceil(d.Hours()))) + " hours"
}
