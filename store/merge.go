package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// ReviewMerge checks a merge request against the store as it is now and
// computes the preview an agent approves: the target (see
// certdesk.MergeTarget), what moves, what collapses, whether the names
// match, and who the case is about. Unknown profiles are ENOTFOUND, others'
// refusals EINVALID or ECONFLICT, each with its reason.
//
// owners, when set, are the personal accounts of the learning profile a
// connect case merges for: the target is then one of their profiles.
func (s *Store) ReviewMerge(ctx context.Context, profileIDs []string, targetID string, owners []string) (certdesk.MergeReview, error) {
	var r certdesk.MergeReview
	db := s.db.WithContext(ctx)
	profiles, err := s.mergeProfiles(db, profileIDs, false)
	if err != nil {
		return r, fmt.Errorf("store: review merge: %w", err)
	}
	target, reason, err := certdesk.MergeTarget(profiles, targetID, owners)
	if err != nil {
		return r, err
	}
	sources := sourcesOf(profiles, target.ID)
	certs, exams, err := mergeRecords(db, profiles)
	if err != nil {
		return r, fmt.Errorf("store: review merge: %w", err)
	}
	r.Details = certdesk.MergeDetails{
		TargetID: target.ID, TargetMCID: target.MCID, TargetReason: reason,
		NamesMatch: certdesk.NamesMatch(profiles),
		Preview:    certdesk.PlanMerge(target, sources, certs, exams),
	}
	for _, p := range append([]certdesk.CertificationProfile{target}, sources...) {
		r.Details.Profiles = append(r.Details.Profiles, certdesk.MergeProfile{
			ID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Email: p.Email, OwnerAccountID: p.OwnerAccountID,
			Status: p.Status, Connected: p.ConnectedLearningProfileID != nil, Target: p.ID == target.ID, CreatedAt: p.CreatedAt,
			Certifications: countOf(certs, func(c certdesk.Certification) bool { return c.ProfileID == p.ID }),
			Transcript:     countOf(exams, func(e certdesk.TranscriptEntry) bool { return e.ProfileID == p.ID }),
		})
	}
	if err := s.mergeOwner(db, &r, target, sources); err != nil {
		return r, fmt.Errorf("store: review merge: %w", err)
	}
	return r, nil
}

// mergeOwner fills in who a merge case is about: the owner of the target,
// or of another profile, preferring an owner with a learning profile; and
// the address the outcome goes to (the target's email, else its owner's).
func (s *Store) mergeOwner(db *gorm.DB, r *certdesk.MergeReview, target certdesk.CertificationProfile, sources []certdesk.CertificationProfile) error {
	r.LearnerName, r.LearnerEmail = target.LegalName, target.Email
	var ownerIDs []string
	for _, p := range append([]certdesk.CertificationProfile{target}, sources...) {
		if p.OwnerAccountID != nil {
			ownerIDs = append(ownerIDs, *p.OwnerAccountID)
		}
	}
	if len(ownerIDs) == 0 {
		return nil
	}
	var accounts []certdesk.Account
	if err := db.Where("id IN ?", ownerIDs).Find(&accounts).Error; err != nil {
		return translate(err)
	}
	byID := map[string]certdesk.Account{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	for _, id := range ownerIDs { // the target's owner first
		if a, ok := byID[id]; ok && a.LearningProfileID != nil {
			r.AccountID, r.LearningProfileID = a.ID, *a.LearningProfileID
			break
		}
	}
	if owner, ok := byID[ownerIDs[0]]; ok && target.OwnerAccountID != nil {
		if r.AccountID == "" {
			r.AccountID = owner.ID
		}
		if r.LearnerEmail == "" {
			r.LearnerEmail = owner.Email
		}
	}
	return nil
}

// MergeRequest is an approved merge, run by a merge case.
type MergeRequest struct {
	CaseID string
	// WorkflowStep numbers the case's "merged" event; a request whose step
	// the case has applied before is a retry, and answers what it did.
	WorkflowStep int64
	Actor        certdesk.Actor
	TargetID     string
	SourceIDs    []string
}

// mergedEvent is the data of a case's "merged" event.
type mergedEvent struct {
	TargetID   string   `json:"target_id"`
	TargetMCID string   `json:"target_mcid"`
	MergedIDs  []string `json:"merged_ids"`
	MergedMCID []string `json:"merged_mcids"`
	certdesk.MergeCounts
}

// MergeProfiles runs an approved merge in one transaction: the sources'
// certifications and exams move to the target, certifications held more
// than once collapse onto the earliest (the rows stay, marked duplicate_of
// it), the sources become merged into the target, and the case's timeline
// gets a "merged" event with the counts. The profiles are checked again
// under lock; a state that no longer allows the merge (a source merged
// elsewhere or connected meanwhile) is ECONFLICT and changes nothing.
// Running it again changes nothing: the same step answers the counts it
// recorded, and sources already merged into the target (by another case)
// answer AlreadyMerged.
func (s *Store) MergeProfiles(ctx context.Context, m MergeRequest) (certdesk.MergeOutcome, error) {
	var out certdesk.MergeOutcome
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var c caseRow
		if err := s.forUpdate(tx).Where("id = ?", m.CaseID).Take(&c).Error; err != nil {
			return err
		}
		if m.WorkflowStep > 0 && c.WorkflowStep >= m.WorkflowStep {
			return recordedMerge(tx, c.ID, &out)
		}
		profiles, err := s.mergeProfiles(tx, append([]string{m.TargetID}, m.SourceIDs...), true)
		if err != nil {
			return err
		}
		// Sources merged into this target before are done; the rest merge.
		pending := slices.DeleteFunc(slices.Clone(profiles), func(p certdesk.CertificationProfile) bool {
			return p.ID != m.TargetID && p.MergedIntoID != nil && *p.MergedIntoID == m.TargetID
		})
		if len(pending) == 1 {
			out.AlreadyMerged = true
			return nil
		}
		target, _, err := certdesk.MergeTarget(pending, m.TargetID, nil)
		if err != nil {
			return err
		}
		sources := sourcesOf(pending, target.ID)
		certs, exams, err := mergeRecords(tx, pending)
		if err != nil {
			return err
		}
		plan := certdesk.PlanMerge(target, sources, certs, exams)
		before, err := mergeRowsOf(tx, target, sources, certs, exams)
		if err != nil {
			return err
		}
		if err := s.applyMerge(tx, target, sources, plan); err != nil {
			return err
		}
		// What it changed, so that it can be undone (store/unmerge.go).
		if err := s.saveSnapshot(tx, c.ID, before); err != nil {
			return err
		}
		touched := []string{target.ID}
		for _, p := range sources {
			touched = append(touched, p.ID)
		}
		if err := s.recordHistory(tx, touched, "merge", "status merged_into"); err != nil {
			return err
		}
		out.MergeCounts = plan.MergeCounts
		ev := mergedEvent{TargetID: target.ID, TargetMCID: target.MCID, MergeCounts: plan.MergeCounts}
		de := certdesk.ProfileMergedData{CaseID: c.ID, Target: certdesk.ProfileRef{ID: target.ID, MCID: target.MCID}, MergeCounts: plan.MergeCounts}
		for _, p := range sources {
			ev.MergedIDs, ev.MergedMCID = append(ev.MergedIDs, p.ID), append(ev.MergedMCID, p.MCID)
			de.Sources = append(de.Sources, certdesk.ProfileRef{ID: p.ID, MCID: p.MCID})
		}
		if err := s.emit(tx, certdesk.EventProfileMerged, target.ID, fmt.Sprintf("merged:%s:%d", c.ID, m.WorkflowStep), de); err != nil {
			return err
		}
		_, _, err = s.changeCase(tx, Change{CaseID: c.ID, WorkflowStep: m.WorkflowStep, Event: Event{Actor: m.Actor, Type: certdesk.EventMerged, Data: ev}})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: merge profiles into %q: %w", m.TargetID, err)
	}
	return out, nil
}

// applyMerge writes a plan: records move, duplicates collapse, sources are
// merged, and profiles merged into a source earlier now point at the target.
func (s *Store) applyMerge(tx *gorm.DB, target certdesk.CertificationProfile, sources []certdesk.CertificationProfile, plan certdesk.MergePreview) error {
	ids := make([]string, len(sources))
	for i, p := range sources {
		ids[i] = p.ID
	}
	now := s.now()
	if err := tx.Model(&certdesk.Certification{}).Where("profile_id IN ?", ids).Update("profile_id", target.ID).Error; err != nil {
		return err
	}
	if err := tx.Model(&certdesk.TranscriptEntry{}).Where("profile_id IN ?", ids).Update("profile_id", target.ID).Error; err != nil {
		return err
	}
	for _, d := range plan.Duplicates {
		if err := tx.Model(&certdesk.Certification{}).Where("id IN ?", d.Collapse).Update("duplicate_of_id", d.KeepID).Error; err != nil {
			return err
		}
	}
	err := tx.Model(&certdesk.CertificationProfile{}).Where("merged_into_id IN ?", ids).
		Updates(map[string]any{"merged_into_id": target.ID, "updated_at": now}).Error
	if err != nil {
		return err
	}
	return tx.Model(&certdesk.CertificationProfile{}).Where("id IN ?", ids).
		Updates(map[string]any{"status": certdesk.ProfileMerged, "merged_into_id": target.ID, "updated_at": now}).Error
}

// recordedMerge reads the counts a case's merge recorded.
func recordedMerge(tx *gorm.DB, caseID string, out *certdesk.MergeOutcome) error {
	var ev certdesk.CaseEvent
	if err := tx.Where("case_id = ? AND type = ?", caseID, "merged").Order("seq DESC").Take(&ev).Error; err != nil {
		return fmt.Errorf("the case's merge step was applied but its event is missing: %w", err)
	}
	var data mergedEvent
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return fmt.Errorf("the case's merged event: %w", err)
	}
	out.MergeCounts = data.MergeCounts
	return nil
}

// mergeProfiles loads the profiles of a merge (ids deduplicated; locked
// in id order when lock is set, so concurrent merges cannot deadlock). An
// unknown id is ENOTFOUND naming it.
func (s *Store) mergeProfiles(db *gorm.DB, ids []string, lock bool) ([]certdesk.CertificationProfile, error) {
	ids = distinct(ids)
	var profiles []certdesk.CertificationProfile
	q := db
	if lock {
		q = s.forUpdate(db)
	}
	if err := q.Where("id IN ?", ids).Order("id").Find(&profiles).Error; err != nil {
		return nil, translate(err)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(profiles, func(p certdesk.CertificationProfile) bool { return p.ID == id }) {
			return nil, certdesk.Errorf(certdesk.ENOTFOUND, "no certification profile %q", id)
		}
	}
	return profiles, nil
}

// mergeRecords loads the certifications and exams of the profiles.
func mergeRecords(db *gorm.DB, profiles []certdesk.CertificationProfile) ([]certdesk.Certification, []certdesk.TranscriptEntry, error) {
	ids := make([]string, len(profiles))
	for i, p := range profiles {
		ids[i] = p.ID
	}
	var (
		certs []certdesk.Certification
		exams []certdesk.TranscriptEntry
	)
	if err := db.Where("profile_id IN ?", ids).Order("earned_at, id").Find(&certs).Error; err != nil {
		return nil, nil, translate(err)
	}
	if err := db.Where("profile_id IN ?", ids).Order("taken_at, id").Find(&exams).Error; err != nil {
		return nil, nil, translate(err)
	}
	return certs, exams, nil
}

// sourcesOf returns the profiles other than the target, oldest first.
func sourcesOf(profiles []certdesk.CertificationProfile, targetID string) []certdesk.CertificationProfile {
	var out []certdesk.CertificationProfile
	for _, p := range profiles {
		if p.ID != targetID {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b certdesk.CertificationProfile) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func countOf[T any](rows []T, ok func(T) bool) int {
	n := 0
	for _, r := range rows {
		if ok(r) {
			n++
		}
	}
	return n
}

func distinct(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
