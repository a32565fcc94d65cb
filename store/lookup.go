package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk"
)

// The agent's desk looks people up: the learner beside a case, a
// certification profile by MCID, name or email, and a profile's history.

// lookupLimit bounds each list of a lookup: a desk panel, not an export.
const lookupLimit = 20

// LearnerFile is what certdesk knows of the learner a case is about: their
// accounts, their certification profiles and their other cases.
type LearnerFile struct {
	Accounts []certdesk.Account
	Profiles []certdesk.CertificationProfile
	Cases    []certdesk.Case // newest first, the case itself left out
}

// LearnerOf gathers the learner of c: the accounts of its learning profile
// (or its account, or the account of its learner's address), the profiles
// those accounts own, the one connected to the learning profile and the
// case's own; and the other cases with the same learning profile, account
// or learner address.
func (s *Store) LearnerOf(ctx context.Context, c certdesk.Case) (f LearnerFile, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: learner of case %q: %w", c.ID, translate(err))
		}
	}()
	db := s.db.WithContext(ctx)
	lp := ""
	if c.LearningProfileID != nil {
		lp = *c.LearningProfileID
	}
	email := strings.ToLower(strings.TrimSpace(c.LearnerEmail))
	q := db.Model(&certdesk.Account{})
	switch {
	case lp != "":
		q = q.Where("learning_profile_id = ?", lp)
	case c.AccountID != nil:
		q = q.Where("id = ?", *c.AccountID)
	case email != "":
		q = q.Where("lower(email) = ?", email)
	default:
		q = nil
	}
	if q != nil {
		if err := q.Order("created_at, id").Limit(lookupLimit).Find(&f.Accounts).Error; err != nil {
			return f, err
		}
	}
	if lp == "" {
		for _, a := range f.Accounts {
			if a.LearningProfileID != nil {
				lp = *a.LearningProfileID
				break
			}
		}
	}
	ids := []string{""}
	for _, a := range f.Accounts {
		ids = append(ids, a.ID)
	}
	pq := db.Where("owner_account_id IN ?", ids)
	if lp != "" {
		pq = pq.Or("connected_learning_profile_id = ?", lp)
	}
	if len(c.ProfileIDs) > 0 {
		pq = pq.Or("id IN ?", c.ProfileIDs)
	}
	if err := db.Where(pq).Order("created_at, id").Limit(lookupLimit).Find(&f.Profiles).Error; err != nil {
		return f, err
	}
	cq := db.Where("account_id IN ?", ids)
	if lp != "" {
		cq = cq.Or("learning_profile_id = ?", lp)
	}
	emails := []string{email}
	for _, a := range f.Accounts {
		emails = append(emails, strings.ToLower(a.Email))
	}
	cq = cq.Or("lower(learner_email) IN ?", emails)
	f.Cases, err = scanCases(db.Model(&caseRow{}).Where("id <> ?", c.ID).Where(cq).Order("id DESC").Limit(lookupLimit).Select(caseColumns))
	return f, err
}

// FindProfiles finds certification profiles by MCID (exactly), or by a
// part of the legal name, the email or the owner account's email; merged
// ones too, newest first.
func (s *Store) FindProfiles(ctx context.Context, q string) ([]certdesk.CertificationProfile, error) {
	var out []certdesk.CertificationProfile
	t := strings.ToLower(strings.TrimSpace(q))
	if t == "" {
		return out, nil
	}
	like := "%" + escapeLike(t) + "%"
	err := s.db.WithContext(ctx).
		Where("mcid = ? OR lower(legal_name) LIKE ? ESCAPE '\\' OR lower(email) LIKE ? ESCAPE '\\' OR "+
			"owner_account_id IN (SELECT id FROM accounts WHERE lower(email) LIKE ? ESCAPE '\\')", t, like, like, like).
		Order("created_at DESC, id").Limit(lookupLimit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: find profiles: %w", translate(err))
	}
	return out, nil
}

// ProfileChange is one row of a profile's history: what it was after a
// change, and what made the change.
type ProfileChange struct {
	At             time.Time
	Source         string // merge, unmerge, import, integration, recovery…
	Changed        string // what changed, in short
	LegalName      string
	Email          string
	OwnerAccountID *string
	Status         string
	MergedIntoID   *string
}

// ProfileHistory lists a profile's changes, newest first.
func (s *Store) ProfileHistory(ctx context.Context, profileID string) ([]ProfileChange, error) {
	var out []ProfileChange
	err := s.db.WithContext(ctx).Table("certification_profile_history").
		Select("at, source, changed, legal_name, email, owner_account_id, status, merged_into_id").
		Where("profile_id = ?", profileID).Order("at DESC, id DESC").Limit(100).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: history of profile %q: %w", profileID, translate(err))
	}
	return out, nil
}

// CasesOfProfile lists the cases about a profile, newest first.
func (s *Store) CasesOfProfile(ctx context.Context, p certdesk.CertificationProfile) ([]certdesk.Case, error) {
	db := s.db.WithContext(ctx)
	like := "%" + escapeLike(p.ID) + "%"
	q := db.Model(&caseRow{}).Where("profile_ids LIKE ? ESCAPE '\\'", like)
	if p.MCID != "" {
		q = q.Or("(' ' || mcids || ' ') LIKE ? ESCAPE '\\'", "% "+escapeLike(p.MCID)+" %")
	}
	out, err := scanCases(q.Order("id DESC").Limit(lookupLimit).Select(caseColumns))
	if err != nil {
		return nil, fmt.Errorf("store: cases of profile %q: %w", p.ID, translate(err))
	}
	return out, nil
}

// Assignment is a case someone else assigned to an agent.
type Assignment struct {
	Case certdesk.Case
	By   certdesk.Actor
	At   time.Time
}

// AssignedTo lists the cases assigned to an agent by someone else since a
// time and still theirs, newest first: the console's notifications.
func (s *Store) AssignedTo(ctx context.Context, agentID string, since time.Time) ([]Assignment, error) {
	db := s.db.WithContext(ctx)
	var evs []certdesk.CaseEvent
	err := db.Select("case_id, seq, at, actor, type").
		Where("type = ? AND at > ? AND actor <> ?", certdesk.EventAssigned, since, certdesk.AgentActor(agentID)).
		Where("case_id IN (?)", db.Model(&caseRow{}).Select("id").Where("assignee_id = ?", agentID)).
		Order("at DESC").Limit(lookupLimit).Find(&evs).Error
	if err != nil {
		return nil, fmt.Errorf("store: cases assigned to %q: %w", agentID, translate(err))
	}
	var out []Assignment
	done := map[string]bool{}
	for _, ev := range evs {
		if done[ev.CaseID] {
			continue
		}
		done[ev.CaseID] = true
		c, err := s.Case(ctx, ev.CaseID)
		if err != nil {
			return nil, err
		}
		out = append(out, Assignment{Case: c, By: ev.Actor, At: ev.At})
	}
	return out, nil
}
