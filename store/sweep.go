package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// The inactivity sweep. An account's last activity is its last sign-in, its
// reactivation by a completed recovery, or its creation, whichever is
// latest. The sweep queues notices in account_notices (its outbox) in the
// same transaction as the decision, then sends the pending ones.

// Notice kinds (they are the mail kinds).
const (
	NoticeReminder = "inactivity_reminder"
	NoticeInactive = "account_inactive"
)

// AccountNotice is a notice the sweep owes an account, for one period of
// inactivity (PeriodAt, the last activity it is about).
type AccountNotice struct {
	AccountID  string
	Kind       string
	PeriodAt   time.Time
	ToAddr     string
	Name       string
	InactiveOn time.Time
	CreatedAt  time.Time
	DoneAt     *time.Time
}

// Step names the notice's email: one per kind and period, so the emails
// table's (case, step) rule holds it to one message too.
func (n AccountNotice) Step() string { return n.Kind + ":" + n.PeriodAt.UTC().Format(time.RFC3339) }

// EmailKey is the case key of the notice's emails: notices have no case.
func (n AccountNotice) EmailKey() string { return "account:" + n.AccountID }

// SweepWindow is one run of the sweep: the time it runs as, and after how
// many months without activity an account is reminded and made inactive.
type SweepWindow struct {
	AsOf           time.Time
	RemindMonths   int
	InactiveMonths int
	// After, when set, makes each page start after the last account the
	// page before it read, so a run's pages walk the accounts once (each
	// page an index range on PostgreSQL, however many accounts are
	// unused); the store moves it on. Nil: each page starts from the first
	// account still selected.
	After *SweepCursor
}

// SweepCursor is where a run of the sweep's pages has got to: the last
// account read, by last activity then id (the order of the pages).
type SweepCursor struct {
	LastActive time.Time
	ID         string
}

// from starts a page after the cursor and moves the cursor to the page's
// last account. SQLite (dev mode's few accounts) pages from the start.
func (s *Store) from(q *gorm.DB, w SweepWindow) *gorm.DB {
	if w.After == nil || w.After.ID == "" || s.dialect != "postgres" {
		return q
	}
	return q.Where("("+s.lastActive()+", accounts.id) > (?, ?)", w.After.LastActive, w.After.ID)
}

func (w SweepWindow) advance(page []sweptAccount) {
	if w.After != nil && len(page) > 0 {
		last := page[len(page)-1]
		*w.After = SweepCursor{LastActive: last.lastActive(), ID: last.ID}
	}
}

func (w SweepWindow) remindBefore() time.Time   { return w.AsOf.UTC().AddDate(0, -w.RemindMonths, 0) }
func (w SweepWindow) inactiveBefore() time.Time { return w.AsOf.UTC().AddDate(0, -w.InactiveMonths, 0) }

// InactiveOn is when an account last active at a time becomes inactive.
func (w SweepWindow) InactiveOn(lastActive time.Time) time.Time {
	return lastActive.UTC().AddDate(0, w.InactiveMonths, 0)
}

// sweptAccount is what the sweep reads of an account.
type sweptAccount struct {
	ID            string
	Email         string
	DisplayName   string
	LastSignInAt  *time.Time
	ReactivatedAt *time.Time
	CreatedAt     time.Time
}

func (a sweptAccount) lastActive() time.Time {
	t := a.CreatedAt
	for _, u := range []*time.Time{a.LastSignInAt, a.ReactivatedAt} {
		if u != nil && u.After(t) {
			t = *u
		}
	}
	return t.UTC()
}

// lastActive is the SQL of an account's last activity (columns of
// "accounts", qualified: subqueries have a created_at of their own).
func (s *Store) lastActive() string {
	if s.dialect == "postgres" {
		return "GREATEST(accounts.last_sign_in_at, accounts.reactivated_at, accounts.created_at)"
	}
	return "MAX(COALESCE(accounts.last_sign_in_at, accounts.created_at), COALESCE(accounts.reactivated_at, accounts.created_at))"
}

func (s *Store) sweptAccounts(tx *gorm.DB) *gorm.DB {
	return tx.Table("accounts").
		Select("accounts.id, accounts.email, accounts.display_name, accounts.last_sign_in_at, accounts.reactivated_at, accounts.created_at").
		Where("accounts.status = ?", certdesk.AccountActive).Order(s.lastActive() + ", accounts.id")
}

// QueueReminders queues a reminder for up to limit active accounts last
// active between the window's two cutoffs that have none for this period
// yet. It returns how many it queued; 0 means none are left.
func (s *Store) QueueReminders(ctx context.Context, w SweepWindow, limit int) (int, error) {
	la := s.lastActive()
	var page []sweptAccount
	err := s.from(s.sweptAccounts(s.db.WithContext(ctx)), w).
		Where(la+" <= ? AND "+la+" > ?", w.remindBefore(), w.inactiveBefore()).
		Where("NOT EXISTS (SELECT 1 FROM account_notices n WHERE n.account_id = accounts.id AND n.kind = ? AND n.period_at >= "+la+")", NoticeReminder).
		Limit(limit).Find(&page).Error
	if err != nil {
		return 0, fmt.Errorf("store: accounts to remind: %w", translate(err))
	}
	w.advance(page)
	queued := 0
	err = s.tx(ctx, func(tx *gorm.DB) error {
		for _, a := range page {
			ok, err := s.queueNotice(tx, a, NoticeReminder, w)
			if err != nil {
				return err
			}
			if ok {
				queued++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue reminders: %w", err)
	}
	return queued, nil
}

// QueueInactivations makes up to limit active accounts last active before
// the window's inactive cutoff inactive, each with its notice queued in the
// same transaction. It returns how many it made inactive; 0 means none are
// left.
func (s *Store) QueueInactivations(ctx context.Context, w SweepWindow, limit int) (int, error) {
	la := s.lastActive()
	cutoff := w.inactiveBefore()
	var page []sweptAccount
	if err := s.from(s.sweptAccounts(s.db.WithContext(ctx)), w).Where(la+" <= ?", cutoff).Limit(limit).Find(&page).Error; err != nil {
		return 0, fmt.Errorf("store: accounts to inactivate: %w", translate(err))
	}
	w.advance(page)
	done := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		for _, a := range page {
			// Checked again in the update: a sign-in since the read wins.
			res := tx.Table("accounts").Where("id = ? AND status = ? AND "+la+" <= ?", a.ID, certdesk.AccountActive, cutoff).
				Update("status", certdesk.AccountInactive)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			if _, err := s.queueNotice(tx, a, NoticeInactive, w); err != nil {
				return err
			}
			err := s.emit(tx, certdesk.EventAccountInactive, a.ID, "inactive:"+a.ID+":"+a.lastActive().UTC().Format(time.RFC3339Nano), certdesk.AccountChangedData{
				Account: certdesk.AccountRef{ID: a.ID, Email: a.Email}, Status: certdesk.AccountInactive, Reason: "unused"})
			if err != nil {
				return err
			}
			done++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: inactivate accounts: %w", err)
	}
	return done, nil
}

func (s *Store) queueNotice(tx *gorm.DB, a sweptAccount, kind string, w SweepWindow) (bool, error) {
	period := a.lastActive()
	n := AccountNotice{AccountID: a.ID, Kind: kind, PeriodAt: period, ToAddr: a.Email, Name: a.DisplayName,
		InactiveOn: w.InactiveOn(period), CreatedAt: w.AsOf.UTC()}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&n)
	return res.RowsAffected == 1, res.Error
}

// PendingNotices returns up to limit notices not sent yet, oldest first.
func (s *Store) PendingNotices(ctx context.Context, limit int) ([]AccountNotice, error) {
	var out []AccountNotice
	err := s.db.WithContext(ctx).Where("done_at IS NULL").Order("created_at, account_id, kind, period_at").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: pending notices: %w", translate(err))
	}
	return out, nil
}

// NoticeDone records that a notice's email was handed over or refused for
// good: the sweep does not try it again.
func (s *Store) NoticeDone(ctx context.Context, n AccountNotice, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&AccountNotice{}).
		Where("account_id = ? AND kind = ? AND period_at = ? AND done_at IS NULL", n.AccountID, n.Kind, n.PeriodAt).
		Update("done_at", at.UTC()).Error
	if err != nil {
		return fmt.Errorf("store: notice done: %w", translate(err))
	}
	return nil
}

// NoticesOf lists an account's notices, oldest first (for tests and support).
func (s *Store) NoticesOf(ctx context.Context, accountID string) ([]AccountNotice, error) {
	var out []AccountNotice
	if err := s.db.WithContext(ctx).Where("account_id = ?", accountID).Order("created_at, kind").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: notices of %q: %w", accountID, translate(err))
	}
	return out, nil
}

// RecordSignIn records a sign-in on an active account; a sign-in older
// than the one on file changes nothing. An inactive account is ECONFLICT:
// it becomes active again only through a completed recovery. An unknown
// email is ENOTFOUND.
func (s *Store) RecordSignIn(ctx context.Context, email string, at time.Time) (certdesk.Account, error) {
	var a certdesk.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		a, err = s.recordSignIn(tx, email, at)
		return err
	})
	if err != nil {
		err = fmt.Errorf("store: record sign-in: %w", err)
		logErr(ctx, "RecordSignIn", err)
		return a, err
	}
	return a, nil
}

// SignIn is one sign-in of a batch: the account's email and when.
type SignIn struct {
	Email string
	At    time.Time
}

// RecordSignIns records a batch of sign-ins as RecordSignIn does, in one
// transaction: all or nothing. When any is refused (an unknown or an
// inactive account), nothing is recorded and the error, ECONFLICT, names
// every refused one by its index ("events[3].email"). Accounts are locked
// in the order of their emails, so batches that share accounts do not
// deadlock. The accounts come back in the batch's order.
func (s *Store) RecordSignIns(ctx context.Context, events []SignIn) ([]certdesk.Account, error) {
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return certdesk.NormalizeEmail(events[order[i]].Email) < certdesk.NormalizeEmail(events[order[j]].Email)
	})
	out := make([]certdesk.Account, len(events))
	err := s.tx(ctx, func(tx *gorm.DB) error {
		refused := map[string]string{}
		for _, i := range order {
			a, err := s.recordSignIn(tx, events[i].Email, events[i].At)
			switch certdesk.ErrorCode(err) {
			case "":
				out[i] = a
			case certdesk.ENOTFOUND, certdesk.ECONFLICT:
				refused[fmt.Sprintf("events[%d].email", i)] = certdesk.ErrorMessage(err)
			default:
				return err
			}
		}
		if len(refused) > 0 {
			return &certdesk.Error{Code: certdesk.ECONFLICT, Fields: refused,
				Message: fmt.Sprintf("%d of the %d sign-in events were refused (fields name them); nothing was recorded", len(refused), len(events))}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store: record sign-ins: %w", err)
		logErr(ctx, "RecordSignIns", err)
		return nil, err
	}
	return out, nil
}

// recordSignIn is RecordSignIn's work, in a transaction.
func (s *Store) recordSignIn(tx *gorm.DB, email string, at time.Time) (certdesk.Account, error) {
	email, at = certdesk.NormalizeEmail(email), at.UTC()
	var a certdesk.Account
	err := s.forUpdate(tx).Where("email = ?", email).Take(&a).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return a, certdesk.Errorf(certdesk.ENOTFOUND, "no account has the email %s", email)
	case err != nil:
		return a, err
	case a.Status != certdesk.AccountActive:
		return a, certdesk.Errorf(certdesk.ECONFLICT, "the account %s is inactive: it becomes active again only through a completed recovery", email)
	case a.LastSignInAt != nil && !at.After(*a.LastSignInAt):
		return a, nil
	}
	a.LastSignInAt = &at
	return a, tx.Model(&certdesk.Account{}).Where("id = ?", a.ID).Update("last_sign_in_at", at).Error
}
