package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// An integration token is kept by its hash with its name and scopes, is
// bounded in lifetime like a personal access token, works until it expires
// or is revoked, and notes its use.
func TestIntegrationTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		const year = 365 * 24 * time.Hour
		all := []certdesk.Scope{certdesk.ScopeProfilesWrite, certdesk.ScopeSignInsWrite}
		tests := []struct {
			name    string
			scopes  []certdesk.Scope
			expires time.Time
			field   string // the field refused, "" when created
		}{
			{"certification-system", all, now.Add(90 * 24 * time.Hour), ""},
			{"exactly the maximum", all, now.Add(year), ""},
			{"past the maximum", all, now.Add(year + time.Second), "expires_at"},
			{"no expiry", all, time.Time{}, "expires_at"},
			{"", all, now.Add(time.Hour), "name"},
			{string(make([]byte, store.MaxIntegrationName+1)), all, now.Add(time.Hour), "name"},
			{"no scopes", nil, now.Add(time.Hour), "scopes"},
			{"an unknown scope", []certdesk.Scope{"cases:write"}, now.Add(time.Hour), "scopes"},
		}
		hashes := map[string]string{}
		for _, tc := range tests {
			_, hash := certdesk.NewToken()
			tok := &store.IntegrationToken{Name: tc.name, Scopes: tc.scopes, Hash: hash, ExpiresAt: tc.expires}
			err := s.CreateIntegrationToken(ctx, tok, year)
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("%q: %v, want created", tc.name, err)
			case tc.field == "":
				hashes[tok.ID] = hash
			case certdesk.ErrorCode(err) != certdesk.EINVALID || certdesk.ErrorFields(err)[tc.field] == "":
				t.Errorf("%q: %v %v, want %s refused", tc.name, err, certdesk.ErrorFields(err), tc.field)
			}
		}
		ts, err := s.IntegrationTokens(ctx)
		if err != nil || len(ts) != 2 {
			t.Fatalf("tokens stored: %d (%v), want the two valid ones", len(ts), err)
		}
		tok := ts[0]
		got, err := s.LiveIntegrationToken(ctx, hashes[tok.ID])
		if err != nil || got.ID != tok.ID || !slices.Equal(got.Scopes, all) || got.Name != tok.Name {
			t.Fatalf("live token = %+v, %v; want %+v", got, err, tok)
		}
		if again, _ := s.IntegrationTokens(ctx); again[0].LastUsedAt == nil || !again[0].LastUsedAt.Equal(now) {
			t.Errorf("last used = %v, want %v", again[0].LastUsedAt, now)
		}
		if _, err := s.LiveIntegrationToken(ctx, "no such hash"); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("unknown hash: %v, want not found", err)
		}
		// Expired: not live, and no personal access token either.
		now = now.Add(year + time.Hour)
		if _, err := s.LiveIntegrationToken(ctx, hashes[tok.ID]); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("expired token: %v, want not found", err)
		}
		if _, err := s.LiveAccessToken(ctx, hashes[tok.ID]); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("an integration token as an access token: %v, want not found", err)
		}
		now = now.Add(-year - time.Hour)
		if err := s.RevokeIntegrationToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LiveIntegrationToken(ctx, hashes[tok.ID]); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("revoked token: %v, want not found", err)
		}
		if err := s.RevokeIntegrationToken(ctx, tok.ID); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("revoked twice: %v, want not found", err)
		}
		if _, err := s.LiveIntegrationToken(ctx, hashes[ts[1].ID]); err != nil {
			t.Errorf("the other token: %v, want live", err)
		}
	})
}

// A batch of sign-ins is recorded in one transaction: all or nothing, each
// refused event named by its index; an older sign-in changes nothing.
func TestRecordSignInsIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		ana, chen := "ana.silva@outlook.example", "chen.wei@outlook.example"
		before, err := s.AccountByEmail(ctx, ana)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC().Truncate(time.Second).Add(time.Hour) // after the seed's sign-ins
		_, err = s.RecordSignIns(ctx, []store.SignIn{
			{Email: ana, At: at},
			{Email: "nobody@outlook.example", At: at},
			{Email: chen, At: at},
			{Email: "dara.murphy@outlook.example", At: at}, // inactive
		})
		fields := certdesk.ErrorFields(err)
		if certdesk.ErrorCode(err) != certdesk.ECONFLICT || len(fields) != 2 || fields["events[1].email"] == "" || fields["events[3].email"] == "" {
			t.Fatalf("a batch with an unknown and an inactive account: %v %v, want 409 naming events 1 and 3", err, fields)
		}
		if after, _ := s.AccountByEmail(ctx, ana); !sameTime(after.LastSignInAt, before.LastSignInAt) {
			t.Errorf("refused batch changed Ana's last sign-in: %v → %v", before.LastSignInAt, after.LastSignInAt)
		}
		as, err := s.RecordSignIns(ctx, []store.SignIn{{Email: chen, At: at}, {Email: ana, At: at}, {Email: chen, At: at.Add(-time.Hour)}})
		if err != nil || len(as) != 3 || as[0].Email != chen || as[1].Email != ana {
			t.Fatalf("batch = %+v, %v", as, err)
		}
		for _, e := range []string{ana, chen} {
			if a, _ := s.AccountByEmail(ctx, e); !sameTime(a.LastSignInAt, &at) {
				t.Errorf("%s last sign-in = %v, want %v (an older one in the batch changes nothing)", e, a.LastSignInAt, at)
			}
		}
	})
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}
