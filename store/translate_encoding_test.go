package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// Text PostgreSQL cannot store (NUL, invalid UTF-8, \u0000 in JSON) is the
// caller's mistake: EINVALID, never an internal error (500). SQLite stores
// it as it is.
func TestTextTheDatabaseCannotStoreIsInvalid(t *testing.T) {
	ctx := context.Background()
	s := storetest.Seeded(t, "postgres")
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "enc-" + certdesk.NewID()}
	if _, err := s.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	bad := []string{"a\x00b", "\x00", "\xff\xfe", "caf\xe9", "\xc0\xaf", "\xed\xa0\x80"}
	tests := []struct {
		name string
		op   func(string) error
	}{
		{"note in a case event", func(v string) error {
			_, _, err := s.ChangeCase(ctx, store.Change{CaseID: cs.ID, Event: store.Event{Actor: certdesk.ActorSystem, Type: "note", Data: map[string]string{"note": v}}})
			return err
		}},
		{"case subject", func(v string) error {
			c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, Subject: v, WorkflowID: "enc-" + certdesk.NewID()}
			_, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorPublic, Type: "opened"})
			return err
		}},
		{"access token name", func(v string) error {
			return s.CreateAccessToken(ctx, &store.AccessToken{AgentID: store.DemoID("agent:alice.agent@certdesk.example"), Name: v, Hash: certdesk.NewID(), ExpiresAt: s.Now().AddDate(0, 1, 0)}, config.DefaultTokenMaxTTL)
		}},
		{"lookup by email", func(v string) error {
			_, err := s.AccountByEmail(ctx, v)
			return err
		}},
		{"list search", func(v string) error {
			_, err := s.ListCases(ctx, store.CaseFilter{Q: v})
			return err
		}},
		{"audit data (JSON)", func(v string) error {
			raw, _ := json.Marshal(map[string]string{"x": v})
			return s.Audit(ctx, store.AuditEntry{Actor: certdesk.ActorSystem, Action: "test", Data: raw})
		}},
	}
	for _, tc := range tests {
		for _, v := range bad {
			err := tc.op(v)
			if code := certdesk.ErrorCode(err); code == certdesk.EINTERNAL {
				t.Errorf("%s %q: %v (internal), want invalid", tc.name, v, err)
			}
		}
	}
	// \u0000 is valid JSON but not a jsonb string.
	err := s.Audit(ctx, store.AuditEntry{Actor: certdesk.ActorSystem, Action: "test", Data: json.RawMessage(`{"x":"\u0000"}`)})
	if certdesk.ErrorCode(err) != certdesk.EINVALID {
		t.Errorf(`audit data {"x":"\u0000"}: %v, want invalid`, err)
	}
}
