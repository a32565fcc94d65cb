package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A session names its holder in one look-up, and stops naming anyone once
// revoked, expired, or when the holder is gone.
func TestSessionHolder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		agent, err := s.AgentByEmail(ctx, "alice.agent@certdesk.example")
		if err != nil {
			t.Fatal(err)
		}
		account := certdesk.Account{Email: "holder@example.org", Kind: certdesk.AccountPersonal, DisplayName: "Hol Der", Status: certdesk.AccountActive}
		if err := s.CreateAccount(ctx, &account); err != nil {
			t.Fatal(err)
		}
		session := func(subject string, ttl time.Duration) string {
			ss := &store.Session{ID: certdesk.NewID(), Subject: subject, Method: "dev", ExpiresAt: time.Now().Add(ttl)}
			if err := s.CreateSession(ctx, ss); err != nil {
				t.Fatal(err)
			}
			return ss.ID
		}

		h, err := s.SessionHolder(ctx, session("agent:"+agent.ID, time.Hour))
		if err != nil || h.Role != certdesk.RoleAgent || h.AgentID != agent.ID || h.Email != agent.Email || h.Name != agent.Name || h.AccountID != "" {
			t.Errorf("agent's session: %+v, %v", h, err)
		}
		h, err = s.SessionHolder(ctx, session("account:"+account.ID, time.Hour))
		if err != nil || h.Role != certdesk.RoleLearner || h.AccountID != account.ID || h.Name != "Hol Der" || h.AgentID != "" {
			t.Errorf("learner's session: %+v, %v", h, err)
		}

		revoked := session("agent:"+agent.ID, time.Hour)
		if err := s.RevokeSession(ctx, revoked); err != nil {
			t.Fatal(err)
		}
		for name, id := range map[string]string{
			"revoked":     revoked,
			"expired":     session("agent:"+agent.ID, -time.Minute),
			"unknown":     certdesk.NewID(),
			"no holder":   session("agent:"+certdesk.NewID(), time.Hour),
			"bad subject": session("robot:"+agent.ID, time.Hour),
		} {
			if h, err := s.SessionHolder(ctx, id); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
				t.Errorf("%s session: %+v, %v; want ENOTFOUND", name, h, err)
			}
		}
	})
}
