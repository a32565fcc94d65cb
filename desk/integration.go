package desk

import (
	"context"
	"fmt"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// What the systems of record write through the integration API (an
// integration token's principal; auth has checked its scope).

// MaxSignInBatch is the most sign-in events one batch may hold.
const MaxSignInBatch = 1000

// SignInBatch is a batch of sign-ins the learning site reports.
type SignInBatch struct {
	Events []SignInRequest `json:"events"`
}

// RecordSignIns records a batch of sign-ins, each as RecordSignIn does, in
// one transaction: all or nothing. Every event is checked first (EINVALID
// naming each bad one, "events[3].at"); an unknown or inactive account
// refuses the whole batch (ECONFLICT naming each, see
// store.RecordSignIns); more than MaxSignInBatch events is ETOOLARGE.
func (s *Desk) RecordSignIns(ctx context.Context, b SignInBatch) ([]certdesk.Account, error) {
	switch n := len(b.Events); {
	case n == 0:
		return nil, certdesk.Invalid(map[string]string{"events": "is empty: send at least one sign-in event"})
	case n > MaxSignInBatch:
		return nil, &certdesk.Error{Code: certdesk.ETOOLARGE, Message: fmt.Sprintf("a batch holds at most %d sign-in events", MaxSignInBatch),
			Fields: map[string]string{"events": fmt.Sprintf("has %d events: send at most %d a batch", n, MaxSignInBatch)}}
	}
	fields := map[string]string{}
	events := make([]store.SignIn, len(b.Events))
	for i, e := range b.Events {
		events[i] = s.signIn(e, fmt.Sprintf("events[%d].", i), fields)
	}
	if len(fields) > 0 {
		return nil, certdesk.Invalid(fields)
	}
	return s.store.RecordSignIns(ctx, events)
}

// PutProfile applies a certification profile record from the
// certification system (see store.UpsertProfile: EINVALID naming the bad
// fields, ECONFLICT naming the open case the profile takes part in) and
// answers what certdesk holds now. A change is audited under the
// integration's name; the profile's history is the store's.
func (s *Desk) PutProfile(ctx context.Context, p *certdesk.Principal, r certdesk.ProfileRecord) (store.Outcome, certdesk.ProfileRecord, error) {
	out, err := s.store.UpsertProfile(ctx, r)
	if err != nil {
		return "", certdesk.ProfileRecord{}, err
	}
	s.auditRecord(ctx, p, "profile", r.MCID, out)
	held, err := s.heldProfile(ctx, r)
	return out, held, err
}

// heldProfile is the profile as certdesk holds it after r applied: the
// record's status (a record that applied left it so: inactive is kept
// beside an active status, and a merge is never a record's), the rest read
// back, with what certdesk holds beyond the record (certifications a merge
// moved, exams the record left out).
func (s *Desk) heldProfile(ctx context.Context, r certdesk.ProfileRecord) (certdesk.ProfileRecord, error) {
	cp, err := s.store.CertificationProfileByMCID(ctx, r.MCID)
	if err != nil {
		return certdesk.ProfileRecord{}, err
	}
	held := certdesk.ProfileRecord{MCID: cp.MCID, LegalName: cp.LegalName, Email: cp.Email, Status: r.Status, CreatedAt: &cp.CreatedAt,
		Certifications: []certdesk.CertificationRecord{}, Exams: []certdesk.ExamRecord{}}
	if cp.OwnerAccountID != nil {
		owner, err := s.store.Account(ctx, *cp.OwnerAccountID)
		if err != nil {
			return held, err
		}
		held.OwnerEmail = owner.Email
	}
	if cp.MergedIntoID != nil {
		into, err := s.store.CertificationProfile(ctx, *cp.MergedIntoID)
		if err != nil {
			return held, err
		}
		held.MergedInto = into.MCID
	}
	certs, err := s.store.Certifications(ctx, cp.ID)
	if err != nil {
		return held, err
	}
	for _, c := range certs {
		held.Certifications = append(held.Certifications, certdesk.CertificationRecord{Code: c.Code, Title: c.Title, EarnedAt: c.EarnedAt, ExpiresAt: c.ExpiresAt})
	}
	exams, err := s.store.TranscriptEntries(ctx, cp.ID)
	if err != nil {
		return held, err
	}
	for _, e := range exams {
		held.Exams = append(held.Exams, certdesk.ExamRecord{Code: e.ExamCode, Title: e.ExamTitle, TakenAt: e.TakenAt, Score: &e.Score, Passed: &e.Passed})
	}
	return held, nil
}

// PutAccount applies an account record from the learning site (see
// store.UpsertAccount: its kind never changes, its last sign-in only moves
// forward) and answers the account as certdesk holds it now.
func (s *Desk) PutAccount(ctx context.Context, p *certdesk.Principal, r certdesk.AccountRecord) (store.Outcome, certdesk.AccountRecord, error) {
	out, err := s.store.UpsertAccount(ctx, r)
	if err != nil {
		return "", certdesk.AccountRecord{}, err
	}
	s.auditRecord(ctx, p, "account", certdesk.NormalizeEmail(r.Email), out)
	a, err := s.store.AccountByEmail(ctx, r.Email)
	if err != nil {
		return "", certdesk.AccountRecord{}, err
	}
	return out, certdesk.AccountRecord{Email: a.Email, Kind: a.Kind, DisplayName: a.DisplayName, LastSignInAt: a.LastSignInAt, CreatedAt: &a.CreatedAt}, nil
}

// auditRecord notes a record that changed something ("integration_profile_
// updated"), under the integration's token.
func (s *Desk) auditRecord(ctx context.Context, p *certdesk.Principal, what, key string, out store.Outcome) {
	if out != store.OutcomeUnchanged {
		s.Audit(ctx, p.Actor(), "integration_"+what+"_"+string(out), "", p.ClientAddr, map[string]string{"key": key, "integration": p.Name})
	}
}
