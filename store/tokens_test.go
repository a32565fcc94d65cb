package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

func issue(t *testing.T, s *store.Store, caseID, step string, ttl time.Duration) (raw string, tok store.LinkToken) {
	t.Helper()
	raw, hash := certdesk.NewToken()
	tok = store.LinkToken{Hash: hash, CaseID: caseID, Step: step, Purpose: "test", Recipient: "Learner@Example.com", ExpiresAt: time.Now().Add(ttl)}
	if err := s.IssueLinkToken(context.Background(), &tok); err != nil {
		t.Fatal(err)
	}
	return raw, tok
}

func TestLinkTokensAreBoundSingleUseAndSuperseded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		c := openCase(t, s)
		noop := func(store.LinkToken) error { return nil }

		_, first := issue(t, s, c.ID, "verify", time.Hour)
		_, second := issue(t, s, c.ID, "verify", time.Hour) // reissued: supersedes the first
		if _, err := s.ConsumeLinkToken(ctx, first.Hash, noop); certdesk.ErrorCode(err) != certdesk.EGONE {
			t.Fatalf("superseded token: %v, want gone", err)
		}
		old, _ := s.LinkTokenByHash(ctx, first.Hash)
		if old.State(time.Now()) != store.TokenSuperseded {
			t.Fatalf("first token state %s", old.State(time.Now()))
		}
		if second.Recipient != "learner@example.com" {
			t.Errorf("recipient not normalized: %s", second.Recipient)
		}
		live, err := s.LiveLinkTokens(ctx, c.ID)
		if err != nil || len(live) != 1 || live[0].ID != second.ID {
			t.Fatalf("live tokens = %v, %v; want only the second", live, err)
		}

		// A failing action leaves the token unused.
		boom := errors.New("temporal down")
		if _, err := s.ConsumeLinkToken(ctx, second.Hash, func(store.LinkToken) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("consume with failing action: %v", err)
		}
		if got, _ := s.LinkTokenByHash(ctx, second.Hash); got.UsedAt != nil {
			t.Fatal("a failed action used the token")
		}

		// Many at once: exactly one wins.
		var wins, gone int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.ConsumeLinkToken(ctx, second.Hash, func(store.LinkToken) error { time.Sleep(time.Millisecond); return nil })
				mu.Lock()
				defer mu.Unlock()
				switch certdesk.ErrorCode(err) {
				case "":
					wins++
				case certdesk.EGONE:
					gone++
				default:
					t.Errorf("concurrent consume: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || gone != 19 {
			t.Fatalf("20 concurrent uses: %d won, %d gone; want 1 and 19", wins, gone)
		}

		_, expired := issue(t, s, c.ID, "reply-1", -time.Minute)
		if _, err := s.ConsumeLinkToken(ctx, expired.Hash, noop); certdesk.ErrorCode(err) != certdesk.EGONE {
			t.Fatalf("expired token: %v", err)
		}
		_, unknown := certdesk.NewToken()
		if _, err := s.ConsumeLinkToken(ctx, unknown, noop); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Fatalf("unknown token: %v", err)
		}
	})
}
