package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A personal access token always expires, and no later than the maximum
// lifetime it is created under.
func TestAccessTokenLifetimeIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		const year = 365 * 24 * time.Hour
		tests := []struct {
			name    string
			expires time.Time
			max     time.Duration
			ok      bool
		}{
			{"a day", now.Add(24 * time.Hour), year, true},
			{"exactly the maximum", now.Add(year), year, true},
			{"a second past the maximum", now.Add(year + time.Second), year, false},
			{"ten years", now.AddDate(10, 0, 0), year, false},
			{"forever", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), year, false},
			{"no expiry", time.Time{}, year, false},
			{"already expired (it never works)", now.Add(-time.Minute), year, true},
			{"a shorter maximum", now.Add(48 * time.Hour), 24 * time.Hour, false},
			{"no maximum given", now.Add(time.Hour), 0, false},
		}
		for _, tc := range tests {
			_, hash := certdesk.NewToken()
			err := s.CreateAccessToken(ctx, &store.AccessToken{AgentID: store.DemoID("agent:alice.agent@certdesk.example"), Name: tc.name, Hash: hash, ExpiresAt: tc.expires}, tc.max)
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s: %v, want created", tc.name, err)
			case !tc.ok && certdesk.ErrorCode(err) != certdesk.EINVALID:
				t.Errorf("%s: %v, want invalid", tc.name, err)
			}
		}
		ts, err := s.AccessTokens(ctx, "")
		if err != nil || len(ts) != 3 {
			t.Fatalf("tokens stored: %d (%v), want the three within bounds", len(ts), err)
		}
	})
}
