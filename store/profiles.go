package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// CertificationProfile finds a profile by id.
func (s *Store) CertificationProfile(ctx context.Context, id string) (certdesk.CertificationProfile, error) {
	var p certdesk.CertificationProfile
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&p).Error; err != nil {
		return p, fmt.Errorf("store: certification profile %q: %w", id, translate(err))
	}
	return p, nil
}

// CertificationProfileByMCID finds a profile by MCID.
func (s *Store) CertificationProfileByMCID(ctx context.Context, mcid string) (certdesk.CertificationProfile, error) {
	var p certdesk.CertificationProfile
	if err := s.db.WithContext(ctx).Where("mcid = ?", mcid).Take(&p).Error; err != nil {
		return p, fmt.Errorf("store: certification profile by MCID: %w", translate(err))
	}
	return p, nil
}

// CertificationProfiles returns the profiles with these ids, in id order.
func (s *Store) CertificationProfiles(ctx context.Context, ids []string) ([]certdesk.CertificationProfile, error) {
	var out []certdesk.CertificationProfile
	if len(ids) == 0 {
		return out, nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: certification profiles: %w", translate(err))
	}
	return out, nil
}

// ProfilesOwnedBy returns the profiles owned by any of the accounts, merged
// ones included, oldest first.
func (s *Store) ProfilesOwnedBy(ctx context.Context, accountIDs []string) ([]certdesk.CertificationProfile, error) {
	var out []certdesk.CertificationProfile
	if len(accountIDs) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("owner_account_id IN ?", accountIDs).Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: profiles owned by accounts: %w", translate(err))
	}
	return out, nil
}

// ConnectedProfile returns the certification profile connected to a
// learning profile; ENOTFOUND when there is none.
func (s *Store) ConnectedProfile(ctx context.Context, lpID string) (certdesk.CertificationProfile, error) {
	var p certdesk.CertificationProfile
	if err := s.db.WithContext(ctx).Where("connected_learning_profile_id = ?", lpID).Take(&p).Error; err != nil {
		return p, fmt.Errorf("store: connected profile of %q: %w", lpID, translate(err))
	}
	return p, nil
}

// CreateCertificationProfile inserts a profile; a taken MCID is ECONFLICT.
func (s *Store) CreateCertificationProfile(ctx context.Context, p *certdesk.CertificationProfile) error {
	if p.ID == "" {
		p.ID = certdesk.NewID()
	}
	if p.Status == "" {
		p.Status = certdesk.ProfileActive
	}
	p.Email = certdesk.NormalizeEmail(p.Email)
	now := s.now()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.UpdatedAt = now
	if err := s.db.WithContext(ctx).Create(p).Error; err != nil {
		return fmt.Errorf("store: create certification profile: %w", translate(err))
	}
	return nil
}

// SetConnectedLearningProfile records a connection as it is, without the
// connect rules; the unique index refuses a second connection (ECONFLICT).
// The connect case uses Connect, which checks the rules in one transaction.
func (s *Store) SetConnectedLearningProfile(ctx context.Context, profileID, lpID string) error {
	now := s.now()
	err := s.db.WithContext(ctx).Model(&certdesk.CertificationProfile{}).Where("id = ?", profileID).
		Updates(map[string]any{"connected_learning_profile_id": lpID, "connected_at": now, "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("store: connect profile %q: %w", profileID, translate(err))
	}
	return nil
}

// Certifications lists the certifications of a profile, collapsed
// duplicates included, earliest first.
func (s *Store) Certifications(ctx context.Context, profileID string) ([]certdesk.Certification, error) {
	var out []certdesk.Certification
	err := s.db.WithContext(ctx).Where("profile_id = ?", profileID).Order("earned_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: certifications of %q: %w", profileID, translate(err))
	}
	return out, nil
}

// TranscriptEntries lists the exams of a profile, earliest first.
func (s *Store) TranscriptEntries(ctx context.Context, profileID string) ([]certdesk.TranscriptEntry, error) {
	var out []certdesk.TranscriptEntry
	err := s.db.WithContext(ctx).Where("profile_id = ?", profileID).Order("taken_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: transcript of %q: %w", profileID, translate(err))
	}
	return out, nil
}

// Learner is everything a learner sees of themself: the account they signed
// in with, their learning profile and its accounts, and the certification
// profiles those accounts own.
type Learner struct {
	Account               certdesk.Account
	LearningProfile       *certdesk.LearningProfile
	Accounts              []certdesk.Account
	CertificationProfiles []certdesk.CertificationProfile
	// RegisteredProfiles are profiles another sign-in owns that are
	// registered with one of these accounts' addresses: likely duplicates.
	RegisteredProfiles []certdesk.CertificationProfile
}

// Learner assembles the learner behind an account.
func (s *Store) Learner(ctx context.Context, accountID string) (Learner, error) {
	var l Learner
	acct, err := s.Account(ctx, accountID)
	if err != nil {
		return l, err
	}
	l.Account = acct
	l.Accounts = []certdesk.Account{acct}
	if acct.LearningProfileID != nil {
		lp, err := s.LearningProfile(ctx, *acct.LearningProfileID)
		if err != nil {
			return l, err
		}
		l.LearningProfile = &lp
		if l.Accounts, err = s.LearningProfileAccounts(ctx, lp.ID); err != nil {
			return l, err
		}
	}
	ids := make([]string, len(l.Accounts))
	for i, a := range l.Accounts {
		ids[i] = a.ID
	}
	if l.CertificationProfiles, err = s.ProfilesOwnedBy(ctx, ids); err != nil {
		return l, err
	}
	emails := make([]string, len(l.Accounts))
	for i, a := range l.Accounts {
		emails[i] = a.Email
	}
	q := s.db.WithContext(ctx).Where("email IN ? AND (owner_account_id IS NULL OR owner_account_id NOT IN ?)", emails, ids)
	if err := q.Order("created_at, id").Find(&l.RegisteredProfiles).Error; err != nil {
		return l, fmt.Errorf("store: profiles registered with the learner's addresses: %w", translate(err))
	}
	return l, nil
}

// maxMergeHops bounds following merged_into to the surviving profile.
const maxMergeHops = 10

// survivorOf follows merged_into from a merged profile to the one that
// holds its records now.
func survivorOf(db *gorm.DB, p certdesk.CertificationProfile) (certdesk.CertificationProfile, error) {
	for hops := 0; p.Status == certdesk.ProfileMerged && p.MergedIntoID != nil; hops++ {
		if hops == maxMergeHops {
			return p, fmt.Errorf("profile %s: merged_into goes on for more than %d profiles", p.ID, maxMergeHops)
		}
		next := *p.MergedIntoID
		p = certdesk.CertificationProfile{}
		if err := db.Where("id = ?", next).Take(&p).Error; err != nil {
			return p, err
		}
	}
	return p, nil
}
