package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// AccountByEmail finds an account by its (normalized) email.
func (s *Store) AccountByEmail(ctx context.Context, email string) (certdesk.Account, error) {
	var a certdesk.Account
	err := s.db.WithContext(ctx).Where("email = ?", certdesk.NormalizeEmail(email)).Take(&a).Error
	if err != nil {
		return a, fmt.Errorf("store: account by email: %w", translate(err))
	}
	return a, nil
}

// Account finds an account by id.
func (s *Store) Account(ctx context.Context, id string) (certdesk.Account, error) {
	var a certdesk.Account
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return a, fmt.Errorf("store: account %q: %w", id, translate(err))
	}
	return a, nil
}

// CreateAccount inserts an account; an existing email is ECONFLICT.
func (s *Store) CreateAccount(ctx context.Context, a *certdesk.Account) error {
	a.Email = certdesk.NormalizeEmail(a.Email)
	if a.ID == "" {
		a.ID = certdesk.NewID()
	}
	if a.Status == "" {
		a.Status = certdesk.AccountActive
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("store: create account: %w", translate(err))
	}
	return nil
}

// LearningProfile finds a learning profile by id.
func (s *Store) LearningProfile(ctx context.Context, id string) (certdesk.LearningProfile, error) {
	var lp certdesk.LearningProfile
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&lp).Error; err != nil {
		return lp, fmt.Errorf("store: learning profile %q: %w", id, translate(err))
	}
	return lp, nil
}

// CreateLearningProfile inserts a learning profile.
func (s *Store) CreateLearningProfile(ctx context.Context, lp *certdesk.LearningProfile) error {
	if lp.ID == "" {
		lp.ID = certdesk.NewID()
	}
	if lp.CreatedAt.IsZero() {
		lp.CreatedAt = s.now()
	}
	if err := s.db.WithContext(ctx).Create(lp).Error; err != nil {
		return fmt.Errorf("store: create learning profile: %w", translate(err))
	}
	return nil
}

// LearningProfileAccounts lists the accounts of a learning profile, the one
// it was created with first.
func (s *Store) LearningProfileAccounts(ctx context.Context, lpID string) ([]certdesk.Account, error) {
	var out []certdesk.Account
	err := s.db.WithContext(ctx).Where("learning_profile_id = ?", lpID).Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: accounts of learning profile %q: %w", lpID, translate(err))
	}
	return out, nil
}

// AddAccount adds an account to a learning profile, as the learning site's
// "Add account" does: the account is created when certdesk does not know it
// yet. subject is the identity provider's subject that proved the account
// ("" when nothing was proved: dev mode's add-by-email); a new account is
// bound to it. Adding an account that is already on this learning profile
// changes nothing. It is refused (ECONFLICT, nothing changed) when the
// account belongs to another learning profile (an account never moves by
// being added, but for one its own sign-in moves from the profile made at
// that sign-in, see moveFromSignInProfile), is bound to another subject (only that sign-in may add
// it), is inactive (only a recovery makes it usable again), or is of
// another kind.
func (s *Store) AddAccount(ctx context.Context, lpID, email, kind, subject string) (certdesk.Account, bool, error) {
	email = certdesk.NormalizeEmail(email)
	var (
		acct  certdesk.Account
		added bool
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", lpID).Take(&certdesk.LearningProfile{}).Error; err != nil {
			return err
		}
		err := s.forUpdate(tx).Where("email = ?", email).Take(&acct).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			acct = certdesk.Account{
				ID: certdesk.NewID(), Email: email, Kind: kind, Status: certdesk.AccountActive,
				LearningProfileID: &lpID, CreatedAt: s.now(),
			}
			if subject != "" {
				acct.OIDCSubject = &subject
			}
			added = true
			return tx.Create(&acct).Error
		case err != nil:
			return err
		case acct.LearningProfileID != nil && *acct.LearningProfileID == lpID:
			return nil
		case acct.OIDCSubject != nil && *acct.OIDCSubject != subject:
			return certdesk.Errorf(certdesk.ECONFLICT, "%s is bound to another sign-in: only that sign-in can add it", email)
		case acct.LearningProfileID != nil && (subject == "" || acct.OIDCSubject == nil):
			return certdesk.Errorf(certdesk.ECONFLICT, "this account already belongs to another learning profile")
		case acct.Status == certdesk.AccountInactive:
			return certdesk.Errorf(certdesk.ECONFLICT, "%s is inactive: it can be used again only after a recovery of its certification profile", email)
		case acct.Kind != kind:
			return certdesk.Errorf(certdesk.ECONFLICT, "%s is a %s account, not %s", email, acct.Kind, kind)
		case acct.LearningProfileID != nil:
			added = true
			return moveFromSignInProfile(tx, &acct, lpID)
		}
		set := map[string]any{"learning_profile_id": lpID}
		if subject != "" && acct.OIDCSubject == nil {
			set["oidc_subject"] = subject
			acct.OIDCSubject = &subject
		}
		acct.LearningProfileID = &lpID
		added = true
		return tx.Model(&acct).Updates(set).Error
	})
	if err != nil {
		return acct, false, fmt.Errorf("store: add account to learning profile %q: %w", lpID, translate(err))
	}
	return acct, added, nil
}

// moveFromSignInProfile moves an account, proven by its own sign-in, from
// the learning profile certdesk made at its first sign-in to lpID, when
// that profile holds nothing but the account: no other account, no
// connected certification profile, no case. The emptied profile goes.
// Otherwise the account stays (ECONFLICT): a learning profile with a life
// of its own is never emptied by adding its account elsewhere.
func moveFromSignInProfile(tx *gorm.DB, acct *certdesk.Account, lpID string) error {
	from := *acct.LearningProfileID
	refuse := certdesk.Errorf(certdesk.ECONFLICT, "this account already belongs to another learning profile")
	var lp certdesk.LearningProfile
	if err := tx.Where("id = ?", from).Take(&lp).Error; err != nil {
		return err
	}
	if !lp.MadeAtSignIn {
		return refuse
	}
	var others, connected, cases int64
	if err := tx.Model(&certdesk.Account{}).Where("learning_profile_id = ? AND id <> ?", from, acct.ID).Count(&others).Error; err != nil {
		return err
	}
	if err := tx.Model(&certdesk.CertificationProfile{}).Where("connected_learning_profile_id = ?", from).Count(&connected).Error; err != nil {
		return err
	}
	if err := tx.Model(&caseRow{}).Where("learning_profile_id = ?", from).Count(&cases).Error; err != nil {
		return err
	}
	if others+connected+cases > 0 {
		return refuse
	}
	if err := tx.Model(acct).Update("learning_profile_id", lpID).Error; err != nil {
		return err
	}
	acct.LearningProfileID = &lpID
	return tx.Delete(&lp).Error
}

// forUpdate locks the rows tx selects until the transaction ends, on
// PostgreSQL; SQLite's write transactions already hold the database's lock.
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.dialect == "postgres" {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// LearnerIdentity is a learner as the identity provider says at sign-in.
type LearnerIdentity struct {
	Subject string
	Email   string // verified and canonical; "" when the provider did not confirm it
	Name    string
	Kind    string // AccountPersonal or AccountWork, from the token's tenant
}

// SignInLearner matches a learner's sign-in to their account (by subject,
// else by an unbound email, binding the subject), or creates the account,
// bound to the subject; an account without a learning profile (a new one,
// or one certdesk knew from the certification system or an import) gets
// one, as the learning site makes one at a first sign-in. That profile is
// marked MadeAtSignIn: while it holds nothing else, the account can still
// join its owner's main learning profile (see AddAccount). created reports
// a new account. ENOTFOUND when nothing matches and there is no
// confirmed email to create the account with; ECONFLICT when the address
// belongs to an account bound to another sign-in.
func (s *Store) SignInLearner(ctx context.Context, id LearnerIdentity) (a certdesk.Account, created bool, err error) {
	now := s.now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		err := bindSubject(tx, &a, id.Subject, id.Email)
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound) && id.Email != "":
			a = certdesk.Account{ID: certdesk.NewID(), Email: certdesk.NormalizeEmail(id.Email), Kind: id.Kind, DisplayName: id.Name,
				Status: certdesk.AccountActive, OIDCSubject: &id.Subject, CreatedAt: now}
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		}
		if a.LearningProfileID != nil {
			return nil
		}
		name := a.DisplayName
		if name == "" {
			name = id.Name
		}
		if name == "" {
			name, _, _ = strings.Cut(a.Email, "@")
		}
		lp := certdesk.LearningProfile{ID: certdesk.NewID(), DisplayName: name, CreatedAt: now, MadeAtSignIn: true}
		if err := tx.Create(&lp).Error; err != nil {
			return err
		}
		a.LearningProfileID = &lp.ID
		return tx.Model(&a).Update("learning_profile_id", lp.ID).Error
	})
	if err != nil {
		return a, false, fmt.Errorf("store: learner sign-in: %w", translate(err))
	}
	return a, created, nil
}
