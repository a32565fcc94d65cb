package store_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
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

// ndjson is records as an NDJSON file, a line each.
func ndjson[T any](t *testing.T, recs ...T) string {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// profilesCSV is profile records in the CSV format of docs/import.md.
func profilesCSV(t *testing.T, recs ...certdesk.ProfileRecord) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"mcid", "legal_name", "email", "owner_email", "status", "merged_into", "created_at", "certifications", "exams"})
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	for _, r := range recs {
		var certs, exams []string
		for _, c := range r.Certifications {
			certs = append(certs, strings.Join([]string{c.Code, c.Title, stamp(&c.EarnedAt), stamp(c.ExpiresAt)}, "|"))
		}
		for _, e := range r.Exams {
			score := ""
			if e.Score != nil {
				score = fmt.Sprint(*e.Score)
			}
			exams = append(exams, strings.Join([]string{e.Code, e.Title, stamp(&e.TakenAt), score}, "|"))
		}
		w.Write([]string{r.MCID, r.LegalName, r.Email, r.OwnerEmail, r.Status, r.MergedInto, stamp(r.CreatedAt), strings.Join(certs, ";"), strings.Join(exams, ";")})
	}
	w.Flush()
	return b.String()
}

func importProfiles(t *testing.T, s *store.Store, file, format string, opts store.ImportOptions) (store.ImportReport, []store.Refusal) {
	t.Helper()
	src, err := store.ProfileRecords(strings.NewReader(file), format)
	if err != nil {
		t.Fatal(err)
	}
	var refused []store.Refusal
	opts.Refused = func(r store.Refusal) error { refused = append(refused, r); return nil }
	rep, err := s.ImportProfiles(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep, refused
}

func manyProfiles(n int) []certdesk.ProfileRecord {
	recs := make([]certdesk.ProfileRecord, n)
	for i := range recs {
		recs[i] = newProfile(fmt.Sprint(300000 + i))
		recs[i].Email = fmt.Sprintf("eve.%d@outlook.example", i)
	}
	return recs
}

// snapshot is what the store holds of the profiles with MCIDs from 200000,
// their certifications and exams, one line each, in order.
func snapshot(t *testing.T, s *store.Store) string {
	t.Helper()
	var lines []string
	for _, q := range []string{
		`SELECT p.mcid || ' ' || p.legal_name || ' ' || p.email || ' ' || COALESCE(p.owner_account_id, '-') || ' ' || p.status || ' ' ||
			CASE WHEN p.deactivated_at IS NULL THEN 'a' ELSE 'i' END FROM certification_profiles p WHERE p.mcid >= '200000' ORDER BY p.mcid`,
		`SELECT p.mcid || ' ' || c.code || ' ' || c.title FROM certifications c JOIN certification_profiles p ON p.id = c.profile_id
			WHERE p.mcid >= '200000' ORDER BY p.mcid, c.code, c.earned_at`,
		`SELECT p.mcid || ' ' || e.exam_code || ' ' || e.exam_title || ' ' || e.score FROM transcript_entries e JOIN certification_profiles p ON p.id = e.profile_id
			WHERE p.mcid >= '200000' ORDER BY p.mcid, e.exam_code, e.taken_at`,
	} {
		rows, err := s.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		rows.Close()
	}
	return strings.Join(lines, "\n")
}

func TestImportProfilesTwiceChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		recs := manyProfiles(25)
		file := ndjson(t, recs...)
		var phases []string
		opts := store.ImportOptions{BatchSize: 7, Progress: func(p store.ImportProgress) { phases = append(phases, p.Phase) }}
		rep, refused := importProfiles(t, s, file, store.FormatNDJSON, opts)
		if rep.Inserted != 25 || rep.Updated+rep.Unchanged+rep.Refused != 0 || rep.Certifications != 50 || rep.Exams != 25 || len(refused) != 0 {
			t.Fatalf("first import: %+v, refused %v", rep, refused)
		}
		if !slices.Contains(phases, "staging") || !slices.Contains(phases, "merging") {
			t.Errorf("progress phases %v", phases)
		}
		before := snapshot(t, s)
		rep, _ = importProfiles(t, s, file, store.FormatNDJSON, opts)
		if rep.Unchanged != 25 || rep.Inserted+rep.Updated+rep.Refused+rep.Certifications+rep.Exams != 0 {
			t.Fatalf("second import: %+v", rep)
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("the second import changed the store:\n%s\nvs\n%s", before, after)
		}

		// One changed profile among them: updated, with its history.
		recs[3].Email = "eve.moved@outlook.example"
		recs[3].Certifications = append(recs[3].Certifications, certdesk.CertificationRecord{Code: "DP-900", Title: "Data", EarnedAt: at("2023-01-01T00:00:00Z")})
		rep, _ = importProfiles(t, s, ndjson(t, recs...), store.FormatNDJSON, opts)
		if rep.Updated != 1 || rep.Unchanged != 24 || rep.Certifications != 1 {
			t.Fatalf("import with one change: %+v", rep)
		}
		if n, changed := history(t, s, recs[3].MCID); n != 1 || changed != "email certifications" {
			t.Errorf("history of the changed profile: %d rows, %q", n, changed)
		}
	})
}

func TestImportProfilesRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		ana, _ := s.CertificationProfileByMCID(ctx, "100001")
		cs := &certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Status: certdesk.StatusOpen, Requester: certdesk.ActorSystem,
			WorkflowID: "connect-test", ProfileIDs: []string{ana.ID}, Details: json.RawMessage(`{}`)}
		if _, err := s.OpenCase(ctx, cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			t.Fatal(err)
		}
		good := newProfile("200010")
		badEmail := newProfile("200011")
		badEmail.Email = "eve at outlook"
		badStatus := newProfile("200012")
		badStatus.Status = "retired"
		nul := newProfile("200013")
		nul.LegalName = "Eve\x00Import"
		noOwner := newProfile("200014")
		noOwner.OwnerEmail = "nobody@outlook.example"
		inCase := certdesk.ProfileRecord{MCID: "100001", LegalName: "Ana Silva-Costa", Email: "ana.silva@outlook.example",
			OwnerEmail: "ana.silva@outlook.example", Status: "active"}
		dup := newProfile("200010")
		dup.LegalName = "Eve Again"
		merged := certdesk.ProfileRecord{MCID: "200015", LegalName: "Eve Import", Email: "eve.import@outlook.example", Status: "merged", MergedInto: "200010"}
		lost := certdesk.ProfileRecord{MCID: "200016", LegalName: "Eve Import", Email: "eve.import@outlook.example", Status: "merged", MergedInto: "299999"}
		file := ndjson(t, good, badEmail, badStatus, nul, noOwner, inCase) + "{not json\n\n" + ndjson(t, dup, merged, lost)

		rep, refused := importProfiles(t, s, file, store.FormatNDJSON, store.ImportOptions{BatchSize: 4})
		if rep.Inserted != 2 || rep.Refused != 8 {
			t.Errorf("report %+v, want 2 inserted (good, merged) and 8 refused", rep)
		}
		want := []struct {
			line         int
			field, words string
		}{
			{2, "email", "not an email address"},
			{3, "status", "must be active, merged or inactive"},
			{4, "legal_name", "NUL"},
			{5, "owner_email", "no account"},
			{6, "", cs.ID},
			{7, "", "not a record"},
			{9, "mcid", "line 1"},
			{11, "merged_into", "299999"},
		}
		if len(refused) != len(want) {
			t.Fatalf("refused %+v", refused)
		}
		for i, w := range want {
			r := refused[i]
			if r.Line != w.line || r.Field != w.field || !strings.Contains(r.Reason, w.words) {
				t.Errorf("refusal %d = %+v, want line %d, field %q, reason with %q", i, r, w.line, w.field, w.words)
			}
		}
		if refused[4].CaseID != cs.ID {
			t.Errorf("the open case refusal names case %q", refused[4].CaseID)
		}
		p, err := s.CertificationProfileByMCID(ctx, "200015")
		if err != nil || p.Status != certdesk.ProfileMerged || p.MergedIntoID == nil {
			t.Errorf("merged profile = %+v, %v", p, err)
		}
		if p, _ := s.CertificationProfileByMCID(ctx, "200010"); p.LegalName != "Eve Import" {
			t.Errorf("the duplicate line changed the first: %+v", p)
		}
	})
}

func TestImportDryRunChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		recs := manyProfiles(12)
		importProfiles(t, s, ndjson(t, recs[:6]...), store.FormatNDJSON, store.ImportOptions{})
		recs[0].LegalName = "Changed"
		bad := newProfile("1")
		file := ndjson(t, append(recs, bad)...)
		before := snapshot(t, s)
		dry, dryRefused := importProfiles(t, s, file, store.FormatNDJSON, store.ImportOptions{DryRun: true, BatchSize: 5})
		if after := snapshot(t, s); after != before {
			t.Fatalf("the dry run changed the store:\n%s\nvs\n%s", before, after)
		}
		if n, _ := history(t, s, recs[0].MCID); n != 0 {
			t.Errorf("the dry run wrote %d history rows", n)
		}
		if !dry.DryRun || dry.Inserted != 6 || dry.Updated != 1 || dry.Unchanged != 5 || dry.Refused != 1 {
			t.Errorf("dry run report %+v", dry)
		}
		real, realRefused := importProfiles(t, s, file, store.FormatNDJSON, store.ImportOptions{BatchSize: 5})
		real.DryRun = true
		if real != dry || fmt.Sprint(realRefused) != fmt.Sprint(dryRefused) {
			t.Errorf("dry run %+v %v, real run %+v %v", dry, dryRefused, real, realRefused)
		}
	})
}

func TestImportCSVAndNDJSONAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		recs := manyProfiles(8)
		recs[2].Status = certdesk.ProfileInactive
		recs[5].OwnerEmail = ""
		recs[6].Exams[0].Score = nil
		bad := newProfile("200099")
		bad.Email = "nope"
		recs = append(recs, bad)
		var reports []store.ImportReport
		var snapshots []string
		for _, format := range []string{store.FormatNDJSON, store.FormatCSV} {
			s := storetest.Seeded(t, dialect)
			file := ndjson(t, recs...)
			if format == store.FormatCSV {
				file = profilesCSV(t, recs...)
			}
			rep, refused := importProfiles(t, s, file, format, store.ImportOptions{})
			if len(refused) != 1 || refused[0].Field != "email" {
				t.Errorf("%s: refused %+v", format, refused)
			}
			reports, snapshots = append(reports, rep), append(snapshots, snapshot(t, s))
		}
		if reports[0] != reports[1] || snapshots[0] != snapshots[1] {
			t.Errorf("NDJSON and CSV differ:\n%+v\n%s\n\n%+v\n%s", reports[0], snapshots[0], reports[1], snapshots[1])
		}
	})
}

func TestImportAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Seeded(t, dialect)
		last := at("2025-03-04T05:06:07Z")
		recs := []certdesk.AccountRecord{
			{Email: "gus@outlook.example", Kind: "personal", DisplayName: "Gus", LastSignInAt: &last},
			{Email: "gus@contoso.example", Kind: "work", DisplayName: "Gus"},
			{Email: "ana.silva@outlook.example", Kind: "work", DisplayName: "Ana"},
			{Email: "GUS@outlook.example", Kind: "personal", DisplayName: "Gus twice"},
		}
		for _, format := range []string{store.FormatNDJSON, store.FormatCSV} {
			file := ndjson(t, recs...)
			if format == store.FormatCSV {
				file = "email,kind,display_name,last_sign_in_at\n" + "gus@outlook.example,personal,Gus,2025-03-04T05:06:07Z\n" +
					"gus@contoso.example,work,Gus,\n" + "ana.silva@outlook.example,work,Ana,\n" + "GUS@outlook.example,personal,Gus twice,\n"
			}
			src, err := store.AccountRecords(strings.NewReader(file), format)
			if err != nil {
				t.Fatal(err)
			}
			var refused []store.Refusal
			rep, err := s.ImportAccounts(ctx, src, store.ImportOptions{Refused: func(r store.Refusal) error { refused = append(refused, r); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			wantIns := map[string]int{store.FormatNDJSON: 2, store.FormatCSV: 0}[format]
			wantLines := map[string][]int{store.FormatNDJSON: {3, 4}, store.FormatCSV: {4, 5}}[format]
			if rep.Inserted != wantIns || rep.Unchanged != 2-wantIns || rep.Refused != 2 || len(refused) != 2 ||
				refused[0].Line != wantLines[0] || refused[0].Field != "kind" || refused[1].Line != wantLines[1] || refused[1].Field != "email" {
				t.Errorf("%s: %+v, refused %+v", format, rep, refused)
			}
		}
		if a, err := s.AccountByEmail(ctx, "gus@outlook.example"); err != nil || a.DisplayName != "Gus" || a.LastSignInAt == nil || !a.LastSignInAt.Equal(last) {
			t.Errorf("gus = %+v, %v", a, err)
		}
	})
}
