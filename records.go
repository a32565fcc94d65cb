package certdesk

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Records are what the program's systems of record send certdesk: the
// bodies of the integration API's PUTs and the rows of `certdesk import`.
// A record says how a thing is in the source; the store compares it with
// what it holds and applies the difference. Validate checks a record the
// way the rest of the API checks its input (text is text, addresses are
// canonical), naming each bad field; Canonical is the form that is
// compared and stored.

// ProfileRecord is a certification profile as its source has it, keyed by
// its MCID.
type ProfileRecord struct {
	MCID       string `json:"mcid"`
	LegalName  string `json:"legal_name"`
	Email      string `json:"email"`
	OwnerEmail string `json:"owner_email,omitempty"` // the account that owns it; "" for none
	Status     string `json:"status"`                // ProfileActive, ProfileMerged or ProfileInactive
	// MergedInto is the MCID of the profile a merged one was merged into
	// (required with status merged, refused otherwise).
	MergedInto string `json:"merged_into,omitempty"`
	// CreatedAt is when the source created the profile; a new profile
	// without one is created now. It is not changed afterwards.
	CreatedAt      *time.Time            `json:"created_at,omitempty"`
	Certifications []CertificationRecord `json:"certifications"`
	Exams          []ExamRecord          `json:"exams"`
}

// CertificationRecord is one certification of a profile, keyed by its code
// and when it was earned.
type CertificationRecord struct {
	Code      string     `json:"code"`
	Title     string     `json:"title"`
	EarnedAt  time.Time  `json:"earned_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ExamRecord is one exam of a profile's transcript, keyed by its code and
// when it was taken.
type ExamRecord struct {
	Code    string    `json:"code"`
	Title   string    `json:"title"`
	TakenAt time.Time `json:"taken_at"`
	// Score is out of MaxExamScore; without one the exam is kept with 0.
	Score *int `json:"score,omitempty"`
	// Passed defaults to Score ≥ PassingScore.
	Passed *bool `json:"passed,omitempty"`
}

// AccountRecord is a sign-in account as the learning site has it, keyed by
// its email.
type AccountRecord struct {
	Email        string     `json:"email"`
	Kind         string     `json:"kind"` // AccountPersonal or AccountWork
	DisplayName  string     `json:"display_name"`
	LastSignInAt *time.Time `json:"last_sign_in_at,omitempty"`
	// CreatedAt is when the account was made; a new account without one
	// is created now.
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// ProfileInactive is a record's status for a profile its source no longer
// uses. certdesk keeps such a profile active in its status (a merge and a
// connection read active|merged) and records when the source made it
// inactive beside it.
const ProfileInactive = "inactive"

// Limits of a record.
const (
	MaxRecordText     = 200  // a name, a title, a display name
	MaxCodeLen        = 32   // a certification's or an exam's code
	MaxCertifications = 200  // per profile
	MaxExams          = 500  // per profile
	MaxExamScore      = 1000 // scores run from 0 to this
	PassingScore      = 700
)

// ValidMCID reports whether s is an MCID: 4 to 16 digits.
func ValidMCID(s string) bool {
	if len(s) < 4 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks a profile record: EINVALID with a message per bad field
// ("certifications[2].earned_at").
func (r ProfileRecord) Validate() error {
	f := fieldErrors{}
	if !ValidMCID(r.MCID) {
		f.add("mcid", "must be an MCID: 4 to 16 digits")
	}
	f.text("legal_name", r.LegalName, true)
	f.email("email", r.Email, true)
	f.email("owner_email", r.OwnerEmail, false)
	switch r.Status {
	case ProfileActive, ProfileInactive:
		if r.MergedInto != "" {
			f.add("merged_into", "is only for a profile whose status is merged")
		}
	case ProfileMerged:
		switch {
		case r.MergedInto == "":
			f.add("merged_into", "is required with status merged: the MCID of the profile it was merged into")
		case !ValidMCID(r.MergedInto):
			f.add("merged_into", "must be an MCID: 4 to 16 digits")
		case r.MergedInto == r.MCID:
			f.add("merged_into", "is the profile's own MCID")
		}
	case "":
		f.add("status", "is required: active, merged or inactive")
	default:
		f.add("status", "must be active, merged or inactive")
	}
	f.time("created_at", r.CreatedAt, false)
	if r.Status == ProfileMerged && len(r.Certifications)+len(r.Exams) > 0 {
		f.add("status", "a merged profile holds no certifications or exams: they are on the profile it was merged into")
	}
	if len(r.Certifications) > MaxCertifications {
		f.add("certifications", fmt.Sprintf("has %d certifications: at most %d", len(r.Certifications), MaxCertifications))
	}
	seen := map[string]int{}
	for i, c := range r.Certifications {
		at := fmt.Sprintf("certifications[%d]", i)
		f.code(at+".code", c.Code)
		f.text(at+".title", c.Title, true)
		f.time(at+".earned_at", &c.EarnedAt, true)
		f.time(at+".expires_at", c.ExpiresAt, false)
		key := c.Code + "\x00" + c.EarnedAt.UTC().Truncate(time.Microsecond).String()
		if j, dup := seen[key]; dup {
			f.add(at, fmt.Sprintf("has the code and earned_at of certifications[%d]", j))
		}
		seen[key] = i
	}
	if len(r.Exams) > MaxExams {
		f.add("exams", fmt.Sprintf("has %d exams: at most %d", len(r.Exams), MaxExams))
	}
	clear(seen)
	for i, e := range r.Exams {
		at := fmt.Sprintf("exams[%d]", i)
		f.code(at+".code", e.Code)
		f.text(at+".title", e.Title, true)
		f.time(at+".taken_at", &e.TakenAt, true)
		if e.Score != nil && (*e.Score < 0 || *e.Score > MaxExamScore) {
			f.add(at+".score", fmt.Sprintf("must be between 0 and %d", MaxExamScore))
		}
		key := e.Code + "\x00" + e.TakenAt.UTC().Truncate(time.Microsecond).String()
		if j, dup := seen[key]; dup {
			f.add(at, fmt.Sprintf("has the code and taken_at of exams[%d]", j))
		}
		seen[key] = i
	}
	return f.err()
}

// Canonical is the record as certdesk compares and keeps it: addresses in
// their canonical form, names trimmed, times in UTC to the microsecond
// (what PostgreSQL keeps), an exam's score and pass filled in. Call it on
// a record that passed Validate.
func (r ProfileRecord) Canonical() ProfileRecord {
	r.LegalName = strings.TrimSpace(r.LegalName)
	r.Email = NormalizeEmail(r.Email)
	r.OwnerEmail = NormalizeEmail(r.OwnerEmail)
	r.CreatedAt = canonicalTime(r.CreatedAt)
	certs := make([]CertificationRecord, len(r.Certifications))
	for i, c := range r.Certifications {
		c.Title = strings.TrimSpace(c.Title)
		c.EarnedAt = *canonicalTime(&c.EarnedAt)
		c.ExpiresAt = canonicalTime(c.ExpiresAt)
		certs[i] = c
	}
	exams := make([]ExamRecord, len(r.Exams))
	for i, e := range r.Exams {
		e.Title = strings.TrimSpace(e.Title)
		e.TakenAt = *canonicalTime(&e.TakenAt)
		score := 0
		if e.Score != nil {
			score = *e.Score
		}
		passed := score >= PassingScore
		if e.Passed != nil {
			passed = *e.Passed
		}
		e.Score, e.Passed = &score, &passed
		exams[i] = e
	}
	r.Certifications, r.Exams = certs, exams
	return r
}

// Validate checks an account record: EINVALID with a message per bad field.
func (r AccountRecord) Validate() error {
	f := fieldErrors{}
	f.email("email", r.Email, true)
	switch r.Kind {
	case AccountPersonal, AccountWork:
	case "":
		f.add("kind", "is required: personal or work")
	default:
		f.add("kind", "must be personal or work")
	}
	f.text("display_name", r.DisplayName, false)
	f.time("last_sign_in_at", r.LastSignInAt, false)
	f.time("created_at", r.CreatedAt, false)
	return f.err()
}

// Canonical is the account record as certdesk compares and keeps it.
func (r AccountRecord) Canonical() AccountRecord {
	r.Email = NormalizeEmail(r.Email)
	r.DisplayName = strings.TrimSpace(r.DisplayName)
	r.LastSignInAt = canonicalTime(r.LastSignInAt)
	r.CreatedAt = canonicalTime(r.CreatedAt)
	return r
}

func canonicalTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC().Truncate(time.Microsecond)
	return &c
}

// fieldErrors collects a record's bad fields, the first message of each.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}

// text checks a one-line text field: required or not, text (see
// TextProblem), at most MaxRecordText characters.
func (f fieldErrors) text(field, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "" && required:
		f.add(field, "is required")
	case TextProblem(s, false) != "":
		f.add(field, TextProblem(s, false))
	case utf8.RuneCountInString(s) > MaxRecordText:
		f.add(field, fmt.Sprintf("is longer than %d characters", MaxRecordText))
	}
}

func (f fieldErrors) email(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if msg := TextProblem(s, false); msg != "" {
		f.add(field, msg)
		return
	}
	if _, err := ParseEmail(s); err != nil {
		f.add(field, ErrorMessage(err))
	}
}

// code checks a certification's or an exam's code: letters, digits, "-"
// and ".", as printed on a certificate ("AZ-104").
func (f fieldErrors) code(field, s string) {
	if s == "" {
		f.add(field, "is required")
		return
	}
	ok := len(s) <= MaxCodeLen
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '.'
	}
	if !ok {
		f.add(field, fmt.Sprintf("must be a code of letters, digits, '-' and '.' (at most %d)", MaxCodeLen))
	}
}

// time checks a time is there when required and within years 1900–9999
// (a zero time is a missing one).
func (f fieldErrors) time(field string, t *time.Time, required bool) {
	switch {
	case t == nil || t.IsZero():
		if required {
			f.add(field, "is required: an RFC 3339 time such as 2024-05-01T09:00:00Z")
		}
	case t.UTC().Year() < 1900 || t.UTC().Year() > 9999:
		f.add(field, "must be a time between the years 1900 and 9999")
	}
}

// TextProblem says what is wrong with s as text, or "" when nothing is:
// it must be valid UTF-8 without NUL or other control characters;
// multiline allows tab, CR and LF. PostgreSQL refuses NUL and invalid
// UTF-8, so they are refused where they enter.
func TextProblem(s string, multiline bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"), r == 0xFFFE, r == 0xFFFF:
			// U+FFFE stands for invalid bytes a JSON decoder replaced.
			return "is not valid UTF-8 text"
		case r == 0:
			return "contains a NUL character, which is not text"
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("contains the control character %U, which is not text here", r)
		}
	}
	return ""
}
