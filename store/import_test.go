package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptrTo[T any](v T) *T { return &v }

// newProfile is a record of a profile certdesk does not have, owned by
// Ana's account of the demo world.
func newProfile(mcid string) certdesk.ProfileRecord {
	return certdesk.ProfileRecord{
		MCID: mcid, LegalName: "Eve Import", Email: "eve.import@outlook.example", OwnerEmail: "ana.silva@outlook.example",
		Status: "active", CreatedAt: ptrTo(at("2020-01-02T03:04:05Z")),
		Certifications: []certdesk.CertificationRecord{
			{Code: "AZ-900", Title: "Microsoft Certified: Azure Fundamentals", EarnedAt: at("2020-02-03T10:00:00Z")},
			{Code: "AZ-104", Title: "Microsoft Certified: Azure Administrator Associate", EarnedAt: at("2021-02-03T10:00:00.123456Z"),
				ExpiresAt: ptrTo(at("2024-02-03T10:00:00Z"))},
		},
		Exams: []certdesk.ExamRecord{{Code: "AZ-900", Title: "Microsoft Azure Fundamentals", TakenAt: at("2020-02-03T09:00:00Z"), Score: ptrTo(801)}},
	}
}

// history counts a profile's history rows, and returns the last one's words.
func history(t *testing.T, s *store.Store, mcid string) (int, string) {
	t.Helper()
	var (
		n       int
		changed string
	)
	q := `SELECT COUNT(*), COALESCE(MAX(h.changed), '') FROM certification_profile_history h JOIN certification_profiles c ON c.id = h.profile_id WHERE c.mcid = $1`
	if s.Dialect() == "sqlite" {
		q = strings.ReplaceAll(q, "$1", "?")
	}
	if err := s.SQL().QueryRow(q, mcid).Scan(&n, &changed); err != nil {
		t.Fatal(err)
	}
	return n, changed
}

func TestUpsertProfileOutcomes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		rec := newProfile("200001")
		for i, want := range []store.Outcome{store.OutcomeInserted, store.OutcomeUnchanged} {
			got, err := s.UpsertProfile(ctx, rec)
			if err != nil || got != want {
				t.Fatalf("upsert #%d = %q, %v; want %q", i+1, got, err, want)
			}
		}
		p, err := s.CertificationProfileByMCID(ctx, "200001")
		if err != nil {
			t.Fatal(err)
		}
		if p.OwnerAccountID == nil || *p.OwnerAccountID != store.DemoID("account:ana.silva@outlook.example") || !p.CreatedAt.Equal(at("2020-01-02T03:04:05Z")) {
			t.Errorf("inserted profile = %+v", p)
		}
		certs, _ := s.Certifications(ctx, p.ID)
		exams, _ := s.TranscriptEntries(ctx, p.ID)
		if len(certs) != 2 || len(exams) != 1 || !exams[0].Passed || exams[0].Score != 801 {
			t.Fatalf("certifications %+v, exams %+v", certs, exams)
		}
		if n, _ := history(t, s, "200001"); n != 0 {
			t.Errorf("%d history rows for a new profile", n)
		}

		// A changed record: updated, its history written.
		rec.LegalName = "Eve Imported"
		rec.Certifications[1].Title = "Azure Administrator"
		rec.Exams = append(rec.Exams, certdesk.ExamRecord{Code: "AZ-104", Title: "Azure Administrator", TakenAt: at("2021-02-03T09:00:00Z"), Score: ptrTo(650)})
		if got, err := s.UpsertProfile(ctx, rec); err != nil || got != store.OutcomeUpdated {
			t.Fatalf("changed upsert = %q, %v", got, err)
		}
		if n, changed := history(t, s, "200001"); n != 1 || changed != "legal_name certifications exams" {
			t.Errorf("history: %d rows, last %q", n, changed)
		}
		certs, _ = s.Certifications(ctx, p.ID)
		exams, _ = s.TranscriptEntries(ctx, p.ID)
		if len(certs) != 2 || certs[1].Title != "Azure Administrator" || len(exams) != 2 || exams[1].Passed {
			t.Errorf("after the update: certifications %+v, exams %+v", certs, exams)
		}
		if got, err := s.UpsertProfile(ctx, rec); err != nil || got != store.OutcomeUnchanged {
			t.Fatalf("same record again = %q, %v", got, err)
		}

		// Inactive: kept active, with deactivated_at; and back.
		rec.Status = certdesk.ProfileInactive
		if got, err := s.UpsertProfile(ctx, rec); err != nil || got != store.OutcomeUpdated {
			t.Fatalf("inactive = %q, %v", got, err)
		}
		if got, err := s.UpsertProfile(ctx, rec); err != nil || got != store.OutcomeUnchanged {
			t.Fatalf("inactive again = %q, %v", got, err)
		}
		if p, _ := s.CertificationProfileByMCID(ctx, "200001"); p.Status != certdesk.ProfileActive {
			t.Errorf("an inactive record's profile has status %q", p.Status)
		}
	})
}

func TestUpsertProfileRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)

		unknown := newProfile("200002")
		unknown.OwnerEmail = "nobody@outlook.example"
		_, err := s.UpsertProfile(ctx, unknown)
		if certdesk.ErrorCode(err) != certdesk.EINVALID || certdesk.ErrorFields(err)["owner_email"] == "" {
			t.Errorf("unknown owner: %v (fields %v)", err, certdesk.ErrorFields(err))
		}
		bad := newProfile("200003")
		bad.Email, bad.LegalName, bad.Status = "not an address", "Eve\x00", "gone"
		_, err = s.UpsertProfile(ctx, bad)
		if f := certdesk.ErrorFields(err); certdesk.ErrorCode(err) != certdesk.EINVALID || f["email"] == "" || f["legal_name"] == "" || f["status"] == "" {
			t.Errorf("bad record: %v (fields %v)", err, f)
		}
		if _, err := s.CertificationProfileByMCID(ctx, "200002"); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("a refused record left a profile: %v", err)
		}

		// A profile in an open case is not changed under it.
		ana, _ := s.CertificationProfileByMCID(ctx, "100001")
		cs := &certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Status: certdesk.StatusAwaitingAgent, Requester: certdesk.ActorSystem,
			WorkflowID: "merge-test", ProfileIDs: []string{ana.ID}, MCIDs: []string{"100001"}, Details: json.RawMessage(`{}`)}
		if _, err := s.OpenCase(ctx, cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			t.Fatal(err)
		}
		rec := certdesk.ProfileRecord{MCID: "100001", LegalName: "Ana Silva-Costa", Email: "ana.silva@outlook.example",
			OwnerEmail: "ana.silva@outlook.example", Status: "active"}
		_, err = s.UpsertProfile(ctx, rec)
		if certdesk.ErrorCode(err) != certdesk.ECONFLICT || !strings.Contains(certdesk.ErrorMessage(err), cs.ID) {
			t.Errorf("profile in an open case: %v, want ECONFLICT naming %s", err, cs.ID)
		}
		if p, _ := s.CertificationProfileByMCID(ctx, "100001"); p.LegalName != "Ana Silva" {
			t.Errorf("changed under the case: %+v", p)
		}

		// A merge is a case's work.
		merge := newProfile("100002")
		merge.Status, merge.MergedInto, merge.Certifications, merge.Exams = "merged", "100001", nil, nil
		if _, err := s.UpsertProfile(ctx, merge); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("merging by record: %v, want ECONFLICT", err)
		}
	})
}

func TestUpsertAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		last := at("2025-01-02T03:04:05Z")
		rec := certdesk.AccountRecord{Email: "Finn.Import@Outlook.example", Kind: "personal", DisplayName: "Finn", LastSignInAt: &last}
		for i, want := range []store.Outcome{store.OutcomeInserted, store.OutcomeUnchanged} {
			if got, err := s.UpsertAccount(ctx, rec); err != nil || got != want {
				t.Fatalf("upsert #%d = %q, %v; want %q", i+1, got, err, want)
			}
		}
		a, err := s.AccountByEmail(ctx, "finn.import@outlook.example")
		if err != nil || a.Status != certdesk.AccountActive || a.LastSignInAt == nil || !a.LastSignInAt.Equal(last) {
			t.Fatalf("account = %+v, %v", a, err)
		}
		// An earlier sign-in than certdesk's changes nothing; a later one does.
		rec.LastSignInAt = ptrTo(last.Add(-time.Hour))
		if got, err := s.UpsertAccount(ctx, rec); err != nil || got != store.OutcomeUnchanged {
			t.Errorf("earlier sign-in = %q, %v", got, err)
		}
		rec.LastSignInAt, rec.DisplayName = ptrTo(last.Add(time.Hour)), "Finn Import"
		if got, err := s.UpsertAccount(ctx, rec); err != nil || got != store.OutcomeUpdated {
			t.Errorf("later sign-in = %q, %v", got, err)
		}
		rec.Kind = "work"
		if _, err := s.UpsertAccount(ctx, rec); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("another kind: %v, want ECONFLICT", err)
		}
		if _, err := s.UpsertAccount(ctx, certdesk.AccountRecord{Email: "x", Kind: "robot"}); certdesk.ErrorCode(err) != certdesk.EINVALID {
			t.Errorf("bad record: %v", err)
		}
	})
}
