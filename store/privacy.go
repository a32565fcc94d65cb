package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// PersonalData is everything certdesk holds about a person, as stored:
// every column of every row, by table. The person is an email address and
// whatever it leads to — its accounts, the learning profile they belong to
// (and that profile's other accounts), the certification profiles those
// accounts own or that carry one of their addresses or are connected to
// the learning profile (and the accounts that own those profiles), the cases about any of these, with their timelines
// and conversations, the emails sent to the addresses and the audit entries
// of the person or their cases.
type PersonalData struct {
	Email       string    `json:"email"`
	GeneratedAt time.Time `json:"generated_at"`
	// Addresses are the person's addresses found (the one asked for first).
	Addresses []string `json:"addresses"`

	Accounts              []Row `json:"accounts"`
	LearningProfiles      []Row `json:"learning_profiles"`
	CertificationProfiles []Row `json:"certification_profiles"`
	Certifications        []Row `json:"certifications"`
	Exams                 []Row `json:"exams"`
	ProfileHistory        []Row `json:"profile_history"`
	Cases                 []Row `json:"cases"`
	CaseEvents            []Row `json:"case_events"`
	Messages              []Row `json:"messages"`
	// Attachments carry their content (base64 in "data") until their
	// retention deleted it.
	Attachments []Row `json:"attachments"`
	Emails      []Row `json:"emails"`
	// CapturedMail is dev mode's mailbox (empty in production).
	CapturedMail   []Row `json:"captured_mail"`
	AccountNotices []Row `json:"account_notices"`
	// MergeSnapshots are the rows a merge of their profiles changed, as
	// they were and as it left them (for its undo).
	MergeSnapshots []Row `json:"merge_snapshots"`
	Audit          []Row `json:"audit"`
}

// Row is a stored row: its columns by name.
type Row map[string]any

// PersonalData collects what certdesk holds about the person with an
// address. An address certdesk knows nothing of gives an export with
// empty lists (and the same shape).
func (s *Store) PersonalData(ctx context.Context, email string) (PersonalData, error) {
	email = certdesk.NormalizeEmail(email)
	out := PersonalData{Email: email, GeneratedAt: s.now(), Addresses: []string{email}}
	db := s.db.WithContext(ctx)
	rows := func(table string, q func(*gorm.DB) *gorm.DB, order string) ([]Row, error) {
		var found []map[string]any
		if err := q(db.Table(table)).Order(order).Find(&found).Error; err != nil {
			return nil, fmt.Errorf("store: personal data, %s: %w", table, translate(err))
		}
		res := make([]Row, 0, len(found))
		for _, r := range found {
			for k, v := range r {
				if b, ok := v.([]byte); ok { // BLOB/BYTEA: an attachment's content
					r[k] = base64.StdEncoding.EncodeToString(b)
				}
			}
			res = append(res, Row(r))
		}
		return res, nil
	}
	ids := func(rs []Row, col string) []string {
		var out []string
		for _, r := range rs {
			if v, ok := r[col].(string); ok && v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	none := []string{""} // IN () is not SQL: an id nothing has

	var err error
	// The accounts of the address, then every account of their learning
	// profiles: one person.
	if out.Accounts, err = rows("accounts", func(q *gorm.DB) *gorm.DB { return q.Where("email = ?", email) }, "created_at, id"); err != nil {
		return out, err
	}
	lps := append(ids(out.Accounts, "learning_profile_id"), none...)
	if out.Accounts, err = rows("accounts", func(q *gorm.DB) *gorm.DB {
		return q.Where("email = ? OR learning_profile_id IN ?", email, lps)
	}, "created_at, id"); err != nil {
		return out, err
	}
	for _, a := range ids(out.Accounts, "email") {
		if !slices.Contains(out.Addresses, a) {
			out.Addresses = append(out.Addresses, a)
		}
	}
	accts := append(ids(out.Accounts, "id"), none...)
	if out.LearningProfiles, err = rows("learning_profiles", func(q *gorm.DB) *gorm.DB { return q.Where("id IN ?", lps) }, "id"); err != nil {
		return out, err
	}
	if out.CertificationProfiles, err = rows("certification_profiles", func(q *gorm.DB) *gorm.DB {
		return q.Where("email IN ? OR owner_account_id IN ? OR connected_learning_profile_id IN ?", out.Addresses, accts, lps)
	}, "created_at, id"); err != nil {
		return out, err
	}
	// The accounts owning a profile of theirs are theirs too (a duplicate
	// made under another sign-in: the merge rules treat it so).
	var owners []Row
	if owners, err = rows("accounts", func(q *gorm.DB) *gorm.DB {
		return q.Where("id IN ? AND id NOT IN ?", append(ids(out.CertificationProfiles, "owner_account_id"), none...), accts)
	}, "created_at, id"); err != nil {
		return out, err
	}
	out.Accounts = append(out.Accounts, owners...)
	for _, a := range ids(owners, "email") {
		if !slices.Contains(out.Addresses, a) {
			out.Addresses = append(out.Addresses, a)
		}
	}
	accts = append(ids(out.Accounts, "id"), none...)
	profiles := append(ids(out.CertificationProfiles, "id"), none...)
	byProfile := func(q *gorm.DB) *gorm.DB { return q.Where("profile_id IN ?", profiles) }
	if out.Certifications, err = rows("certifications", byProfile, "profile_id, id"); err != nil {
		return out, err
	}
	if out.Exams, err = rows("transcript_entries", byProfile, "profile_id, id"); err != nil {
		return out, err
	}
	if out.ProfileHistory, err = rows("certification_profile_history", byProfile, "profile_id, id"); err != nil {
		return out, err
	}
	if out.Cases, err = rows("cases", func(q *gorm.DB) *gorm.DB {
		w := q.Where("learner_email IN ? OR account_id IN ? OR learning_profile_id IN ?", out.Addresses, accts, lps)
		for _, p := range profiles[:len(profiles)-1] {
			w = w.Or("(' ' || profile_ids || ' ') LIKE ?", "% "+p+" %")
		}
		return w
	}, "created_at, id"); err != nil {
		return out, err
	}
	cases := append(ids(out.Cases, "id"), none...)
	byCase := func(q *gorm.DB) *gorm.DB { return q.Where("case_id IN ?", cases) }
	if out.CaseEvents, err = rows("case_events", byCase, "case_id, seq"); err != nil {
		return out, err
	}
	if out.Messages, err = rows("messages", byCase, "case_id, created_at, id"); err != nil {
		return out, err
	}
	if out.Attachments, err = rows("attachments", byCase, "case_id, created_at, id"); err != nil {
		return out, err
	}
	if out.Emails, err = rows("emails", func(q *gorm.DB) *gorm.DB { return q.Where("to_addr IN ?", out.Addresses) }, "created_at, id"); err != nil {
		return out, err
	}
	if out.CapturedMail, err = rows("captured_mails", func(q *gorm.DB) *gorm.DB { return q.Where("to_addr IN ?", out.Addresses) }, "created_at, id"); err != nil {
		return out, err
	}
	if out.AccountNotices, err = rows("account_notices", func(q *gorm.DB) *gorm.DB { return q.Where("account_id IN ?", accts) }, "account_id"); err != nil {
		return out, err
	}
	if out.MergeSnapshots, err = rows("merge_snapshots", byCase, "case_id"); err != nil {
		return out, err
	}
	actors := []string{""}
	for _, a := range accts[:len(accts)-1] {
		actors = append(actors, string(certdesk.LearnerActor(a)))
	}
	for _, a := range out.Addresses {
		actors = append(actors, string(certdesk.EmailActor(a)))
	}
	if out.Audit, err = rows("audit_log", func(q *gorm.DB) *gorm.DB {
		return q.Where("actor IN ? OR case_id IN ?", actors, cases)
	}, "at, id"); err != nil {
		return out, err
	}
	return out, nil
}
