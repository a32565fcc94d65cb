// Package desk is what people do at the support desk, whatever door they
// come through (the JSON API, the console and portal pages, the sign-in):
// open a case, decide one, claim it, use an email link, add an account.
// Each is one method the handlers call; none knows HTTP. The case's
// workflow is the one writer of its projection: the desk starts and
// updates workflows and answers what they answer.
package desk

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/store"
)

// Desk carries what the desk's work needs.
type Desk struct {
	cfg      config.Config
	store    *store.Store
	temporal client.Client
	limits   *limit.Limiter
	codec    *codec.Codec
	now      func() time.Time
}

// New makes a desk. cd is the payload codec of tc (it seals people's own
// keys; nil: payloads carry no subject). now is the clock (nil is
// time.Now).
func New(cfg config.Config, st *store.Store, tc client.Client, cd *codec.Codec, limits *limit.Limiter, now func() time.Time) *Desk {
	if now == nil {
		now = time.Now
	}
	return &Desk{cfg: cfg, store: st, temporal: tc, codec: cd, limits: limits, now: now}
}

// about returns ctx carrying the subject key of the person with an
// address (made when they have none): what a Temporal call made with it
// writes into a history is sealed by that person's own key, which their
// erasure destroys (codec/subject.go). An empty address, or no codec,
// leaves ctx as it is.
func (s *Desk) about(ctx context.Context, email string) (context.Context, error) {
	if s.codec == nil || email == "" {
		return ctx, nil
	}
	id, err := s.store.SubjectKeyID(ctx, email, s.codec.NewSubjectKey)
	if err != nil {
		return ctx, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "could not reach the key store; please try again", Err: err}
	}
	return codec.WithSubject(ctx, id), nil
}

// Audit appends to the audit log; a failure is logged, not fatal to the
// action it records (the case timeline has the case's part).
func (s *Desk) Audit(ctx context.Context, actor certdesk.Actor, action, caseID, addr string, data any) {
	raw, _ := json.Marshal(data)
	if data == nil {
		raw = nil
	}
	if err := s.store.Audit(ctx, store.AuditEntry{Actor: actor, Action: action, CaseID: caseID, ClientAddr: addr, Data: raw}); err != nil {
		slog.ErrorContext(ctx, "audit log write failed", "err", err)
	}
}
