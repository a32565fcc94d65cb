package certdesk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
)

func recordTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func goodProfile() certdesk.ProfileRecord {
	return certdesk.ProfileRecord{MCID: "100001", LegalName: "Ana Silva", Email: "ana.silva@outlook.example",
		OwnerEmail: "ana.silva@outlook.example", Status: "active",
		Certifications: []certdesk.CertificationRecord{{Code: "AZ-900", Title: "Azure Fundamentals", EarnedAt: recordTime("2021-04-12T09:00:00Z")}},
		Exams:          []certdesk.ExamRecord{{Code: "AZ-900", Title: "Azure Fundamentals", TakenAt: recordTime("2021-04-12T09:00:00Z")}}}
}

// Every bad field is named, with what is wrong with it.
func TestProfileRecordValidate(t *testing.T) {
	score := 1001
	for _, tc := range []struct {
		name   string
		change func(r *certdesk.ProfileRecord)
		fields []string // "" for a valid record
	}{
		{"valid", func(r *certdesk.ProfileRecord) {}, nil},
		{"inactive, no owner", func(r *certdesk.ProfileRecord) { r.Status, r.OwnerEmail = "inactive", "" }, nil},
		{"merged", func(r *certdesk.ProfileRecord) {
			r.Status, r.MergedInto, r.Certifications, r.Exams = "merged", "100002", nil, nil
		}, nil},
		{"mcid", func(r *certdesk.ProfileRecord) { r.MCID = "12a4" }, []string{"mcid"}},
		{"short mcid", func(r *certdesk.ProfileRecord) { r.MCID = "123" }, []string{"mcid"}},
		{"no name", func(r *certdesk.ProfileRecord) { r.LegalName = "  " }, []string{"legal_name"}},
		{"NUL", func(r *certdesk.ProfileRecord) { r.LegalName = "Ana\x00" }, []string{"legal_name"}},
		{"control", func(r *certdesk.ProfileRecord) { r.LegalName = "Ana\nSilva" }, []string{"legal_name"}},
		{"not UTF-8", func(r *certdesk.ProfileRecord) { r.LegalName = "Ana \xff" }, []string{"legal_name"}},
		{"long name", func(r *certdesk.ProfileRecord) { r.LegalName = strings.Repeat("a", 201) }, []string{"legal_name"}},
		{"email", func(r *certdesk.ProfileRecord) { r.Email = "Ana <ana@outlook.example>" }, []string{"email"}},
		{"look-alike owner", func(r *certdesk.ProfileRecord) { r.OwnerEmail = "аna@outlook.example" }, []string{"owner_email"}},
		{"status", func(r *certdesk.ProfileRecord) { r.Status = "deleted" }, []string{"status"}},
		{"no status", func(r *certdesk.ProfileRecord) { r.Status = "" }, []string{"status"}},
		{"merged without survivor", func(r *certdesk.ProfileRecord) { r.Status, r.Certifications, r.Exams = "merged", nil, nil }, []string{"merged_into"}},
		{"merged into itself", func(r *certdesk.ProfileRecord) {
			r.Status, r.MergedInto, r.Certifications, r.Exams = "merged", "100001", nil, nil
		}, []string{"merged_into"}},
		{"merged with records", func(r *certdesk.ProfileRecord) { r.Status, r.MergedInto = "merged", "100002" }, []string{"status"}},
		{"survivor when active", func(r *certdesk.ProfileRecord) { r.MergedInto = "100002" }, []string{"merged_into"}},
		{"certification", func(r *certdesk.ProfileRecord) {
			r.Certifications[0].Code, r.Certifications[0].EarnedAt = "AZ 900", time.Time{}
		}, []string{"certifications[0].code", "certifications[0].earned_at"}},
		{"same certification twice", func(r *certdesk.ProfileRecord) {
			r.Certifications = append(r.Certifications, r.Certifications[0])
		}, []string{"certifications[1]"}},
		{"exam", func(r *certdesk.ProfileRecord) { r.Exams[0].Score, r.Exams[0].Title = &score, "" }, []string{"exams[0].score", "exams[0].title"}},
		{"year", func(r *certdesk.ProfileRecord) { c := recordTime("1850-01-01T00:00:00Z"); r.CreatedAt = &c }, []string{"created_at"}},
	} {
		r := goodProfile()
		tc.change(&r)
		err := r.Validate()
		fields := certdesk.ErrorFields(err)
		if len(tc.fields) == 0 {
			if err != nil {
				t.Errorf("%s: %v %v", tc.name, err, fields)
			}
			continue
		}
		if certdesk.ErrorCode(err) != certdesk.EINVALID || len(fields) != len(tc.fields) {
			t.Errorf("%s: %v %v, want fields %v", tc.name, err, fields, tc.fields)
			continue
		}
		for _, f := range tc.fields {
			if fields[f] == "" {
				t.Errorf("%s: no message for %s: %v", tc.name, f, fields)
			}
		}
	}
}

func TestAccountRecordValidate(t *testing.T) {
	for _, tc := range []struct {
		r      certdesk.AccountRecord
		fields []string
	}{
		{certdesk.AccountRecord{Email: "Ben.Okafor@Contoso.example ", Kind: "work"}, nil},
		{certdesk.AccountRecord{Email: "ben", Kind: "work"}, []string{"email"}},
		{certdesk.AccountRecord{Email: "ben@contoso.example", Kind: "school"}, []string{"kind"}},
		{certdesk.AccountRecord{Email: "ben@contoso.example", Kind: "work", DisplayName: "Ben\u0085"}, []string{"display_name"}},
	} {
		fields := certdesk.ErrorFields(tc.r.Validate())
		if len(fields) != len(tc.fields) {
			t.Errorf("%+v: fields %v, want %v", tc.r, fields, tc.fields)
		}
		for _, f := range tc.fields {
			if fields[f] == "" {
				t.Errorf("%+v: no message for %s: %v", tc.r, f, fields)
			}
		}
	}
}

// The canonical record is what is compared: two spellings of one record
// are one record.
func TestRecordsCanonical(t *testing.T) {
	a := goodProfile()
	b := goodProfile()
	b.Email, b.LegalName = " ANA.Silva@outlook.example", "Ana Silva "
	b.Certifications[0].EarnedAt = recordTime("2021-04-12T11:00:00.0000001+02:00")
	ca, cb := a.Canonical(), b.Canonical()
	if ca.Email != cb.Email || ca.LegalName != cb.LegalName || !ca.Certifications[0].EarnedAt.Equal(cb.Certifications[0].EarnedAt) ||
		ca.Certifications[0].EarnedAt.Location() != time.UTC {
		t.Errorf("%+v vs %+v", ca, cb)
	}
	if e := ca.Exams[0]; *e.Score != 0 || *e.Passed {
		t.Errorf("an exam without a score: %d, passed %v", *e.Score, *e.Passed)
	}
	score := 700
	a.Exams[0].Score = &score
	if e := a.Canonical().Exams[0]; !*e.Passed {
		t.Errorf("700 did not pass")
	}
	if a.Exams[0].Passed != nil {
		t.Errorf("Canonical changed the record it was called on")
	}
	acct := certdesk.AccountRecord{Email: " Ben@Contoso.example", Kind: "work", DisplayName: " Ben "}.Canonical()
	if acct.Email != "ben@contoso.example" || acct.DisplayName != "Ben" {
		t.Errorf("%+v", acct)
	}
}

func TestValidMCID(t *testing.T) {
	for s, want := range map[string]bool{"100001": true, "1234": true, "1234567890123456": true, "123": false, "12345678901234567": false, "1e10": false, "": false} {
		if got := certdesk.ValidMCID(s); got != want {
			t.Errorf("ValidMCID(%q) = %v", s, got)
		}
	}
}
