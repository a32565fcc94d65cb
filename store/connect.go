package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// ConnectCandidates is what a connect case decides from: the learning
// profile's accounts, the certification profile already connected to it,
// the active profiles its personal accounts own (a merged one counts as the
// profile it was merged into) and their likely duplicates.
type ConnectCandidates struct {
	LearningProfile certdesk.LearningProfile
	Accounts        []certdesk.Account
	// Connected is the profile connected to this learning profile, if any.
	Connected  *certdesk.CertificationProfile
	Owned      []certdesk.CertificationProfile
	Duplicates []certdesk.CertificationProfile
}

// ConnectCandidates finds what a connect case needs to know about a
// learning profile. Likely duplicates are active profiles, not owned, whose
// legal name equals an owned profile's after normalization and that share
// an email (the profile's or its owner account's) with an owned profile or
// an account of the learning profile, or are owned by one of its accounts.
func (s *Store) ConnectCandidates(ctx context.Context, lpID string) (ConnectCandidates, error) {
	var out ConnectCandidates
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", lpID).Take(&out.LearningProfile).Error; err != nil {
			return err
		}
		if err := tx.Where("learning_profile_id = ?", lpID).Order("created_at, id").Find(&out.Accounts).Error; err != nil {
			return err
		}
		var connected certdesk.CertificationProfile
		switch err := tx.Where("connected_learning_profile_id = ?", lpID).Take(&connected).Error; {
		case err == nil:
			out.Connected = &connected
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		owned, err := ownedProfiles(tx, out.Accounts)
		if err != nil {
			return err
		}
		out.Owned = owned
		out.Duplicates, err = s.likelyDuplicates(tx, out.Accounts, owned)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: connect candidates of %q: %w", lpID, err)
	}
	return out, nil
}

// personalAccountIDs lists the ids of the personal accounts among accounts.
func personalAccountIDs(accounts []certdesk.Account) []string {
	var ids []string
	for _, a := range accounts {
		if a.Kind == certdesk.AccountPersonal {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// ownedProfiles returns the active profiles the personal accounts own,
// following merged ones to the profile they were merged into; oldest first.
func ownedProfiles(tx *gorm.DB, accounts []certdesk.Account) ([]certdesk.CertificationProfile, error) {
	ids := personalAccountIDs(accounts)
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []certdesk.CertificationProfile
	if err := tx.Where("owner_account_id IN ?", ids).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var out []certdesk.CertificationProfile
	for _, p := range rows {
		p, err := survivorOf(tx, p)
		if err != nil {
			return nil, err
		}
		if p.Status == certdesk.ProfileActive && !slices.ContainsFunc(out, func(q certdesk.CertificationProfile) bool { return q.ID == p.ID }) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b certdesk.CertificationProfile) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// likelyDuplicates finds the likely duplicates of the owned profiles.
func (s *Store) likelyDuplicates(tx *gorm.DB, accounts []certdesk.Account, owned []certdesk.CertificationProfile) ([]certdesk.CertificationProfile, error) {
	if len(owned) == 0 {
		return nil, nil
	}
	var names, emails, ownedIDs, owners []string
	for _, p := range owned {
		names = append(names, certdesk.NormalizeName(p.LegalName))
		emails = append(emails, p.Email)
		ownedIDs = append(ownedIDs, p.ID)
	}
	for _, a := range accounts {
		emails = append(emails, a.Email)
		owners = append(owners, a.ID)
	}
	// Accounts with one of the emails own likely duplicates too.
	var sharing []string
	if err := tx.Model(&certdesk.Account{}).Where("email IN ?", emails).Pluck("id", &sharing).Error; err != nil {
		return nil, err
	}
	owners = append(owners, sharing...)
	var rows []certdesk.CertificationProfile
	err := tx.Where("status = ? AND id NOT IN ?", certdesk.ProfileActive, ownedIDs).
		Where(s.db.Where("email IN ?", emails).Or("owner_account_id IN ?", owners)).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []certdesk.CertificationProfile
	for _, p := range rows {
		if slices.Contains(names, certdesk.NormalizeName(p.LegalName)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ConnectRefusal is why Connect refused a connection: a connect resolution
// (certdesk.ConnectConnectedElsewhere, …) and a message for the learner. It
// is wrapped in an ECONFLICT error; find it with errors.As.
type ConnectRefusal struct {
	Reason  string
	Message string
}

func (r *ConnectRefusal) Error() string { return r.Message }

func refuse(reason, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &certdesk.Error{Code: certdesk.ECONFLICT, Message: msg, Err: &ConnectRefusal{Reason: reason, Message: msg}}
}

// Connect connects a certification profile to a learning profile, checking
// the program's rules in the same transaction: the profile is active, not
// connected to another learning profile, owned by a personal account of
// this learning profile (or what a merge left of one it owned), and the
// learning profile has no connected profile. The unique index
// certification_profiles_connected holds the last rule even against a
// writer that skips these checks. A refusal is ECONFLICT wrapping a
// *ConnectRefusal. Connecting a profile already connected to this learning
// profile changes nothing and succeeds.
func (s *Store) Connect(ctx context.Context, lpID, profileID string) (certdesk.CertificationProfile, error) {
	var p certdesk.CertificationProfile
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// The learning profile's row first: connections to one learning
		// profile queue here, then connections to one profile on its row.
		if err := s.forUpdate(tx).Where("id = ?", lpID).Take(&certdesk.LearningProfile{}).Error; err != nil {
			return err
		}
		if err := s.forUpdate(tx).Where("id = ?", profileID).Take(&p).Error; err != nil {
			return err
		}
		switch {
		case p.ConnectedLearningProfileID != nil && *p.ConnectedLearningProfileID == lpID:
			return nil // connected by an earlier attempt
		case p.ConnectedLearningProfileID != nil:
			return refuse(certdesk.ConnectConnectedElsewhere, "the certification profile with MCID %s is connected to another learning profile", p.MCID)
		case p.Status != certdesk.ProfileActive:
			return refuse(certdesk.ConnectProfileNotActive, "the certification profile with MCID %s was merged into another profile", p.MCID)
		}
		var other certdesk.CertificationProfile
		switch err := tx.Where("connected_learning_profile_id = ?", lpID).Take(&other).Error; {
		case err == nil:
			return refuse(certdesk.ConnectAlreadyConnected, "the learning profile is already connected to the certification profile with MCID %s", other.MCID)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		var accounts []certdesk.Account
		if err := tx.Where("learning_profile_id = ?", lpID).Find(&accounts).Error; err != nil {
			return err
		}
		owned, err := ownedProfiles(tx, accounts)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(owned, func(o certdesk.CertificationProfile) bool { return o.ID == p.ID }) {
			return refuse(certdesk.ConnectNotOwned, "the certification profile with MCID %s is not owned by a personal account of the learning profile", p.MCID)
		}
		now := s.now()
		res := tx.Model(&certdesk.CertificationProfile{}).
			Where("id = ? AND connected_learning_profile_id IS NULL AND status = ?", p.ID, certdesk.ProfileActive).
			Updates(map[string]any{"connected_learning_profile_id": lpID, "connected_at": now, "updated_at": now})
		if err := translate(res.Error); errors.Is(err, certdesk.ErrConflict) {
			// Only the unique index can refuse this: another profile got
			// connected to the learning profile.
			return refuse(certdesk.ConnectAlreadyConnected, "the learning profile is already connected to another certification profile")
		} else if err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return certdesk.Errorf(certdesk.ECONFLICT, "the certification profile changed while it was being connected; try again")
		}
		err = s.emit(tx, certdesk.EventProfileConnected, p.ID, "connected:"+p.ID+":"+lpID, certdesk.ProfileConnectedData{
			CertificationProfile: certdesk.ProfileRef{ID: p.ID, MCID: p.MCID}, LearningProfileID: lpID, ConnectedAt: now})
		if err != nil {
			return err
		}
		return tx.Where("id = ?", p.ID).Take(&p).Error
	})
	if err != nil {
		return p, fmt.Errorf("store: connect %q to %q: %w", profileID, lpID, err)
	}
	return p, nil
}
