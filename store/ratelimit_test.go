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

// Limits count sliding windows: what came in the last Window, wherever
// the clock's hours fall.
func TestRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		now := time.Date(2030, 5, 1, 10, 15, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		allow := func(bucket string) (bool, time.Duration) {
			t.Helper()
			ok, retry, err := s.Allow(ctx, bucket, 3, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return ok, retry
		}

		for i := 1; i <= 4; i++ {
			ok, retry := allow("test:a")
			if want := i <= 3; ok != want {
				t.Fatalf("request %d allowed=%v, want %v", i, ok, want)
			}
			// The four came at 10:15: they leave the last hour at 11:15.
			if !ok && retry != time.Hour {
				t.Errorf("retry after %v, want an hour", retry)
			}
		}
		if ok, _ := allow("test:b"); !ok {
			t.Error("another bucket is limited by the first")
		}
		now = now.Add(45 * time.Minute) // 11:00: a new clock hour, the same last hour
		if ok, _ := allow("test:a"); ok {
			t.Error("a new clock hour reset the count (a fixed window, not a sliding one)")
		}
		// The previous hour's requests weigh by the part of that hour still
		// inside the last one (they are taken as spread over it): by 11:59
		// they have all but left.
		now = now.Add(59 * time.Minute)
		if ok, _ := allow("test:a"); !ok {
			t.Error("still limited an hour after the requests")
		}

		// A burst across the hour: three at 10:59, then more at 11:00.
		now = time.Date(2030, 5, 2, 10, 59, 0, 0, time.UTC)
		for range 3 {
			if ok, _ := allow("test:edge"); !ok {
				t.Fatal("the first three refused")
			}
		}
		now = now.Add(time.Minute)
		if ok, retry := allow("test:edge"); ok || retry <= 0 {
			t.Errorf("a fourth request a minute later allowed=%v (retry %v): the hour boundary doubled the limit", ok, retry)
		}
		now = now.Add(59 * time.Minute) // 11:59: the 10:59 burst has all but left
		if ok, _ := allow("test:edge"); !ok {
			t.Error("limited an hour after the burst")
		}

		// An api process whose clock is behind does not move the window back.
		now = time.Date(2030, 5, 3, 10, 15, 0, 0, time.UTC)
		for range 3 {
			allow("test:late")
		}
		now = now.Add(-time.Hour)
		allow("test:late")
		now = now.Add(time.Hour)
		if ok, _ := allow("test:late"); ok {
			t.Error("a late process reset the current window")
		}

		n, err := s.PruneRateLimits(ctx, time.Date(2030, 5, 3, 0, 0, 0, 0, time.UTC))
		if err != nil || n != 3 {
			t.Errorf("prune removed %d (%v), want the three buckets of earlier days", n, err)
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
