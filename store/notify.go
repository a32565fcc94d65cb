package store

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk"
)

// A learner's language and a staff member's notices (migration 0018). The
// columns are outside the domain types on purpose: only mail and the
// console's notices read them.

// SetLanguage keeps the language a learner chose on their learning profile
// ("" forgets it). An unknown learning profile is ENOTFOUND.
func (s *Store) SetLanguage(ctx context.Context, learningProfileID, lang string) error {
	res := s.db.WithContext(ctx).Table("learning_profiles").Where("id = ?", learningProfileID).Update("language", lang)
	if res.Error != nil {
		return fmt.Errorf("store: language of %q: %w", learningProfileID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: language of %q: %w", learningProfileID, certdesk.ErrNotFound)
	}
	return nil
}

// LearningProfileLanguage is the language kept on a learning profile ("":
// none chosen, or no such profile).
func (s *Store) LearningProfileLanguage(ctx context.Context, learningProfileID string) (string, error) {
	var langs []string
	err := s.db.WithContext(ctx).Table("learning_profiles").Where("id = ?", learningProfileID).Pluck("language", &langs).Error
	if err != nil {
		return "", fmt.Errorf("store: language of %q: %w", learningProfileID, translate(err))
	}
	if len(langs) == 0 {
		return "", nil
	}
	return langs[0], nil
}

// LanguageOf is the language kept for an address: that of the learning
// profile its account belongs to ("" when none is known).
func (s *Store) LanguageOf(ctx context.Context, email string) (string, error) {
	var langs []string
	err := s.db.WithContext(ctx).Table("learning_profiles").
		Joins("JOIN accounts ON accounts.learning_profile_id = learning_profiles.id").
		Where("accounts.email = ?", certdesk.NormalizeEmail(email)).Pluck("learning_profiles.language", &langs).Error
	if err != nil {
		return "", fmt.Errorf("store: language of an address: %w", translate(err))
	}
	if len(langs) == 0 {
		return "", nil
	}
	return langs[0], nil
}

// StaffNotices is what a staff member asked to hear of, and when they last
// dismissed the console's "assigned to you" notice (zero: never).
type StaffNotices struct {
	EmailOnAssign  bool
	AssignedSeenAt time.Time
}

type staffNoticesRow struct {
	EmailOnAssign  bool
	AssignedSeenAt *time.Time
}

// StaffNotices reads a staff member's notice settings; an unknown id is
// ENOTFOUND.
func (s *Store) StaffNotices(ctx context.Context, agentID string) (StaffNotices, error) {
	var rows []staffNoticesRow
	err := s.db.WithContext(ctx).Table("agents").Select("email_on_assign, assigned_seen_at").Where("id = ?", agentID).Scan(&rows).Error
	if err != nil {
		return StaffNotices{}, fmt.Errorf("store: notices of %q: %w", agentID, translate(err))
	}
	if len(rows) == 0 {
		return StaffNotices{}, fmt.Errorf("store: notices of %q: %w", agentID, certdesk.ErrNotFound)
	}
	n := StaffNotices{EmailOnAssign: rows[0].EmailOnAssign}
	if rows[0].AssignedSeenAt != nil {
		n.AssignedSeenAt = rows[0].AssignedSeenAt.UTC()
	}
	return n, nil
}

// SetEmailOnAssign turns a staff member's "email me when a case is
// assigned to me" on or off.
func (s *Store) SetEmailOnAssign(ctx context.Context, agentID string, on bool) error {
	return s.updateAgent(ctx, agentID, "email_on_assign", on)
}

// SeeAssigned dismisses a staff member's "assigned to you" notice up to a
// time: assignments at or before it are no longer shown.
func (s *Store) SeeAssigned(ctx context.Context, agentID string, at time.Time) error {
	return s.updateAgent(ctx, agentID, "assigned_seen_at", at.UTC())
}

func (s *Store) updateAgent(ctx context.Context, agentID, column string, v any) error {
	res := s.db.WithContext(ctx).Table("agents").Where("id = ?", agentID).Update(column, v)
	if res.Error != nil {
		return fmt.Errorf("store: %s of %q: %w", column, agentID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: %s of %q: %w", column, agentID, certdesk.ErrNotFound)
	}
	return nil
}
