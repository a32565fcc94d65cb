package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// statement is one SQL statement of a redaction.
type statement struct {
	sql  string
	args []any
}

// emptyJSON is an empty JSON object as each dialect stores JSON (JSONB, or
// the bytes SQLite keeps: a TEXT value would not scan back), as SQL and
// the argument it needs.
func (s *Store) emptyJSON() (string, []any) {
	if s.dialect == "postgres" {
		return "'{}'::jsonb", nil
	}
	return "?", []any{[]byte("{}")}
}

// textOf is SQL reading a JSON column as text, for LIKE.
func (s *Store) textOf(col string) string {
	if s.dialect == "postgres" {
		return col + "::text"
	}
	return "CAST(" + col + " AS TEXT)"
}

func run(tx *gorm.DB, sts []statement) error {
	for _, st := range sts {
		if err := tx.Exec(st.sql, st.args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// redactCases removes the personal data of cases (RedactEndedCases, and
// an erasure). Each keeps its shape for statistics — kind, status,
// resolution, dates, SLA, flags, the ids it links and the type, time and
// actor's role of every timeline event.
func (s *Store) redactCases(tx *gorm.DB, ids []string) error {
	empty, obj := s.emptyJSON()
	with := func(args ...any) []any { return append(append([]any(nil), obj...), args...) }
	// The actor keeps its role: learner:<account id> and agent:<id> name no
	// one by themselves; an email actor is an address.
	unaddressed := func(col string) string {
		return col + ` = CASE WHEN ` + col + ` LIKE 'email:%' THEN 'email:` + Redacted + `' ELSE ` + col + ` END`
	}
	return run(tx, []statement{
		{`UPDATE cases SET subject = ?, learner_name = ?, learner_email = '', ` + unaddressed("requester") + `, details = ` + empty + ` WHERE id IN ?`,
			append([]any{Redacted, Redacted}, with(ids)...)},
		{`UPDATE case_events SET data = ` + empty + `, ` + unaddressed("actor") + ` WHERE case_id IN ?`, with(ids)},
		{`UPDATE messages SET body = ?, from_addr = '', to_addr = '', subject = '', held_reason = '', ` + unaddressed("author") + ` WHERE case_id IN ?`, []any{Redacted, ids}},
		{`UPDATE attachments SET data = NULL, filename = ?, purged_at = COALESCE(purged_at, ?) WHERE case_id IN ?`, []any{Redacted, s.now(), ids}},
		{`UPDATE emails SET to_addr = ?, subject = '', last_error = '' WHERE case_id IN ?`, []any{Redacted, ids}},
		{`UPDATE captured_mails SET to_addr = ?, reply_to = '', subject = ?, html = '', text = ? WHERE case_id IN ?`, []any{Redacted, Redacted, Redacted, ids}},
		{`UPDATE link_tokens SET recipient = ? WHERE case_id IN ?`, []any{Redacted, ids}},
		{`UPDATE audit_log SET data = ` + empty + `, client_addr = '' WHERE case_id IN ?`, with(ids)},
		{`DELETE FROM merge_snapshots WHERE case_id IN ?`, []any{ids}},
	})
}

// Erasure is a request to erase a person: asked for by one supervisor,
// carried out when another approves it. Done, it keeps no address.
type Erasure struct {
	ID          string         `json:"id"`
	Email       string         `json:"email,omitempty"`
	Reason      string         `json:"reason"`
	RequestedBy certdesk.Actor `json:"requested_by"`
	RequestedAt time.Time      `json:"requested_at"`
	ApprovedBy  certdesk.Actor `json:"approved_by,omitempty"`
	DoneAt      *time.Time     `json:"done_at,omitempty"`
	WithdrawnAt *time.Time     `json:"withdrawn_at,omitempty"`
	Result      *ErasureResult `json:"result,omitempty"`
}

// Pending says the erasure awaits its approval.
func (e Erasure) Pending() bool { return e.DoneAt == nil && e.WithdrawnAt == nil }

// ErasureResult is what an erasure reached (counts, no personal data).
type ErasureResult struct {
	Addresses             int `json:"addresses"`
	Accounts              int `json:"accounts"`
	CertificationProfiles int `json:"certification_profiles"`
	Cases                 int `json:"cases"`
	CancelledCases        int `json:"cancelled_cases"`
	Emails                int `json:"emails"`
	SubjectKeys           int `json:"subject_keys"`
	// KeyIDs are the subject keys destroyed (random ids, naming no one),
	// for the codec to forget at once.
	KeyIDs []string `json:"-"`
}

type erasureRow struct {
	ID          string
	Email       string
	Reason      string
	RequestedBy string
	RequestedAt time.Time
	ApprovedBy  string
	DoneAt      *time.Time
	WithdrawnAt *time.Time
	Result      []byte
}

func (erasureRow) TableName() string { return "erasures" }

func (r erasureRow) erasure() Erasure {
	e := Erasure{ID: r.ID, Email: r.Email, Reason: r.Reason, RequestedBy: certdesk.Actor(r.RequestedBy), RequestedAt: r.RequestedAt,
		ApprovedBy: certdesk.Actor(r.ApprovedBy), DoneAt: r.DoneAt, WithdrawnAt: r.WithdrawnAt}
	if len(r.Result) > 0 {
		var res ErasureResult
		if json.Unmarshal(r.Result, &res) == nil {
			e.Result = &res
		}
	}
	return e
}

// RequestErasure records a request to erase the person with an address.
func (s *Store) RequestErasure(ctx context.Context, email, reason string, by certdesk.Actor) (Erasure, error) {
	row := erasureRow{ID: certdesk.NewID(), Email: certdesk.NormalizeEmail(email), Reason: reason, RequestedBy: string(by), RequestedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Erasure{}, translateWrap("request erasure", err)
	}
	return row.erasure(), nil
}

// Erasure reads one erasure.
func (s *Store) Erasure(ctx context.Context, id string) (Erasure, error) {
	var row erasureRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Erasure{}, certdesk.Errorf(certdesk.ENOTFOUND, "no erasure %q", id)
		}
		return Erasure{}, translateWrap("erasure", err)
	}
	return row.erasure(), nil
}

// Erasures lists the latest erasures, pending first.
func (s *Store) Erasures(ctx context.Context, limit int) ([]Erasure, error) {
	var rows []erasureRow
	if err := s.db.WithContext(ctx).Order("done_at IS NOT NULL OR withdrawn_at IS NOT NULL, requested_at DESC, id").
		Limit(max(1, limit)).Find(&rows).Error; err != nil {
		return nil, translateWrap("erasures", err)
	}
	out := make([]Erasure, len(rows))
	for i, r := range rows {
		out[i] = r.erasure()
	}
	return out, nil
}

// WithdrawErasure withdraws a pending erasure (its address goes too).
func (s *Store) WithdrawErasure(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Model(&erasureRow{}).Where("id = ? AND done_at IS NULL AND withdrawn_at IS NULL", id).
		Updates(map[string]any{"withdrawn_at": s.now(), "email": ""})
	if res.Error != nil {
		return translateWrap("withdraw erasure", res.Error)
	}
	if res.RowsAffected == 0 {
		return certdesk.Errorf(certdesk.ECONFLICT, "this erasure is not pending")
	}
	return nil
}

// ErasePerson carries out a pending erasure of the person whose data is
// found (PersonalData), in one transaction: their open cases end
// cancelled (their workflows must be stopped first: a running workflow
// would write again), every case about them is redacted as retention
// does, their accounts, learning profiles and certification profiles keep
// their ids and shape but lose names and addresses, the mail sent to them,
// their sessions, the audit entries and domain events that name them are
// redacted, and their subject keys are destroyed — which makes their data
// in Temporal's histories unreadable. The erasure row keeps only counts.
// Erasing someone already erased finds nothing and changes nothing else.
func (s *Store) ErasePerson(ctx context.Context, erasureID string, approvedBy certdesk.Actor, pd PersonalData) (ErasureResult, error) {
	ids := func(rs []Row, col string) []string {
		out := []string{""} // IN () is not SQL: an id nothing has
		for _, r := range rs {
			if v, ok := r[col].(string); ok && v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	accts, lps := ids(pd.Accounts, "id"), ids(pd.LearningProfiles, "id")
	profiles, cases := ids(pd.CertificationProfiles, "id"), ids(pd.Cases, "id")
	addrs := append([]string{""}, pd.Addresses...)
	res := ErasureResult{Addresses: len(pd.Addresses), Accounts: len(accts) - 1, CertificationProfiles: len(profiles) - 1, Cases: len(cases) - 1,
		Emails: len(pd.Emails)}
	actors := []string{""}
	for _, a := range accts[1:] {
		actors = append(actors, string(certdesk.LearnerActor(a)))
	}
	for _, a := range pd.Addresses {
		actors = append(actors, string(certdesk.EmailActor(a)))
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var e erasureRow
		if err := tx.Where("id = ?", erasureID).Take(&e).Error; err != nil {
			return err
		}
		if e.DoneAt != nil || e.WithdrawnAt != nil {
			return certdesk.Errorf(certdesk.ECONFLICT, "this erasure is not pending")
		}
		now := s.now()
		var open []string
		if err := tx.Model(&caseRow{}).Where("id IN ? AND closed_at IS NULL", cases).Pluck("id", &open).Error; err != nil {
			return err
		}
		res.CancelledCases = len(open)
		for _, id := range open {
			if err := s.cancelErased(tx, id, now); err != nil {
				return err
			}
		}
		if err := s.redactCases(tx, cases); err != nil {
			return err
		}
		empty, obj := s.emptyJSON()
		with := func(args ...any) []any { return append(append([]any(nil), obj...), args...) }
		erasedAddr := `'erased+' || id || '@erased.invalid'`
		sts := []statement{
			{`UPDATE accounts SET email = ` + erasedAddr + `, display_name = ?, oidc_subject = NULL WHERE id IN ?`, []any{Redacted, accts}},
			{`UPDATE learning_profiles SET display_name = ? WHERE id IN ?`, []any{Redacted, lps}},
			{`UPDATE certification_profiles SET legal_name = ?, email = ` + erasedAddr + ` WHERE id IN ?`, []any{Redacted, profiles}},
			{`UPDATE certification_profile_history SET legal_name = ?, email = '' WHERE profile_id IN ?`, []any{Redacted, profiles}},
			{`UPDATE emails SET to_addr = ?, subject = '', last_error = '' WHERE to_addr IN ?`, []any{Redacted, addrs}},
			{`UPDATE captured_mails SET to_addr = ?, reply_to = '', subject = ?, html = '', text = ? WHERE to_addr IN ?`, []any{Redacted, Redacted, Redacted, addrs}},
			{`UPDATE account_notices SET to_addr = ?, name = ? WHERE account_id IN ?`, []any{Redacted, Redacted, accts}},
			{`DELETE FROM sessions WHERE subject IN ?`, []any{actors}},
			{`UPDATE audit_log SET data = ` + empty + `, client_addr = '', actor = CASE WHEN actor LIKE 'email:%' THEN 'email:` + Redacted + `' ELSE actor END WHERE actor IN ?`, with(actors)},
		}
		// What names them in free text: entries about them written by
		// others (a supervisor's export), events sent to subscribers, rate
		// limits counted per mailbox.
		for _, a := range pd.Addresses {
			like := "%" + a + "%"
			sts = append(sts,
				statement{`UPDATE audit_log SET data = ` + empty + ` WHERE ` + s.textOf("data") + ` LIKE ?`, with(like)},
				statement{`UPDATE domain_events SET data = ` + empty + ` WHERE ` + s.textOf("data") + ` LIKE ?`, with(like)},
				statement{`UPDATE dev_webhook_receipts SET body = ? WHERE body LIKE ?`, []any{Redacted, like}},
				statement{`DELETE FROM rate_limits WHERE bucket LIKE ?`, []any{like}},
			)
		}
		if err := run(tx, sts); err != nil {
			return err
		}
		keys, err := eraseSubjectKeys(tx, addrs, now)
		if err != nil {
			return err
		}
		res.SubjectKeys, res.KeyIDs = len(keys), keys
		raw, _ := json.Marshal(res)
		return tx.Model(&erasureRow{}).Where("id = ?", erasureID).
			Updates(map[string]any{"done_at": now, "approved_by": string(approvedBy), "email": "", "result": raw}).Error
	})
	if err != nil {
		var ce *certdesk.Error
		if errors.As(err, &ce) {
			return res, err
		}
		return res, fmt.Errorf("store: erase person: %w", translate(err))
	}
	return res, nil
}

// cancelErased ends an open case of an erased person: cancelled, with the
// reason on its timeline (its workflow was stopped and cannot write it).
func (s *Store) cancelErased(tx *gorm.DB, id string, now time.Time) error {
	var r caseRow
	if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]string{"reason": "the person's data was erased at their request"})
	if err := tx.Create(&certdesk.CaseEvent{CaseID: id, Seq: r.Version + 1, At: now, Actor: certdesk.ActorSystem,
		Type: certdesk.EventCancelled, Data: data}).Error; err != nil {
		return err
	}
	return tx.Model(&caseRow{}).Where("id = ?", id).Updates(map[string]any{"status": certdesk.StatusCancelled,
		"resolution": certdesk.ResolutionErased, "closed_at": now, "updated_at": now, "version": r.Version + 1, "assignee_id": nil}).Error
}
