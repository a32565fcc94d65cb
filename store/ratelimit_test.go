package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

func TestRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		now := time.Date(2030, 5, 1, 10, 15, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }

		for i := 1; i <= 4; i++ {
			ok, retry, err := s.Allow(ctx, "test:a", 3, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if want := i <= 3; ok != want {
				t.Fatalf("request %d allowed=%v, want %v", i, ok, want)
			}
			if !ok && retry != 45*time.Minute {
				t.Errorf("retry after %v, want the 45 minutes left in the window", retry)
			}
		}
		if ok, _, _ := s.Allow(ctx, "test:b", 3, time.Hour); !ok {
			t.Error("another bucket is limited by the first")
		}
		now = now.Add(45 * time.Minute) // the next window
		if ok, _, _ := s.Allow(ctx, "test:a", 3, time.Hour); !ok {
			t.Error("still limited in the next window")
		}
		// An api process whose clock is behind does not move the window back.
		now = now.Add(-time.Hour)
		for range 3 {
			s.Allow(ctx, "test:a", 3, time.Hour)
		}
		now = now.Add(time.Hour)
		if ok, _, _ := s.Allow(ctx, "test:a", 3, time.Hour); ok {
			t.Error("a late process reset the current window")
		}

		n, err := s.PruneRateLimits(ctx, now.Truncate(time.Hour))
		if err != nil || n != 1 {
			t.Errorf("prune removed %d (%v), want test:b's ended window", n, err)
		}
	})
}

// Two api processes (two stores on one database) and concurrent requests
// share one count.
func TestRateLimitIsShared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := storetest.URL(t, dialect)
		var stores []*store.Store
		for range 2 {
			s, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores = append(stores, s)
		}
		if _, err := stores[0].Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := stores[i%2].Allow(ctx, "test:burst", 7, time.Hour)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := allowed.Load(); n != 7 {
			t.Fatalf("%d of 20 concurrent requests allowed, want exactly 7", n)
		}
	})
}
