package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// A merge records, in its own transaction, every row it changes as it was
// and as it left it (merge_snapshots). Undoing it puts the rows back as
// they were, and only while each is still as the merge left it: anything
// else would lose a later change. See certdesk/unmerge.go for the rules.

// mergeRows is the state of the rows a merge touches.
type mergeRows struct {
	TargetID  string   `json:"target_id"`
	SourceIDs []string `json:"source_ids"`
	// Profiles are the target, the sources and the profiles merged into a
	// source earlier (the merge points them at the target).
	Profiles       []profileRow `json:"profiles"`
	Certifications []certRow    `json:"certifications"`
	Exams          []examRow    `json:"exams"`
}

// profileIDs are the target's, then the others' in id order.
func (r mergeRows) profileIDs() []string {
	ids := []string{r.TargetID}
	for _, p := range r.Profiles {
		if p.ID != r.TargetID {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

type profileRow struct {
	ID                         string  `json:"id"`
	Status                     string  `json:"status"`
	MergedIntoID               *string `json:"merged_into_id"`
	OwnerAccountID             *string `json:"owner_account_id"`
	ConnectedLearningProfileID *string `json:"connected_learning_profile_id"`
}

type certRow struct {
	ID            string  `json:"id"`
	ProfileID     string  `json:"profile_id"`
	DuplicateOfID *string `json:"duplicate_of_id"`
}

type examRow struct {
	ID        string `json:"id"`
	ProfileID string `json:"profile_id"`
}

// snapshotRow is a merge_snapshots row.
type snapshotRow struct {
	CaseID     string `gorm:"primaryKey"`
	TargetID   string
	MergedAt   time.Time
	BeforeRows json.RawMessage
	AfterRows  json.RawMessage
	UndoneBy   *string
	UndoneAt   *time.Time
}

func (snapshotRow) TableName() string { return "merge_snapshots" }

// readMergeRows reads the current state of the rows a snapshot names.
func readMergeRows(db *gorm.DB, like mergeRows) (mergeRows, error) {
	out := mergeRows{TargetID: like.TargetID, SourceIDs: like.SourceIDs}
	ids := func(n int, id func(int) string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = id(i)
		}
		return s
	}
	var profiles []certdesk.CertificationProfile
	if err := db.Where("id IN ?", ids(len(like.Profiles), func(i int) string { return like.Profiles[i].ID })).Order("id").Find(&profiles).Error; err != nil {
		return out, err
	}
	for _, p := range profiles {
		out.Profiles = append(out.Profiles, profileRow{ID: p.ID, Status: p.Status, MergedIntoID: p.MergedIntoID,
			OwnerAccountID: p.OwnerAccountID, ConnectedLearningProfileID: p.ConnectedLearningProfileID})
	}
	if len(like.Certifications) > 0 {
		var certs []certdesk.Certification
		if err := db.Where("id IN ?", ids(len(like.Certifications), func(i int) string { return like.Certifications[i].ID })).Order("id").Find(&certs).Error; err != nil {
			return out, err
		}
		for _, c := range certs {
			out.Certifications = append(out.Certifications, certRow{ID: c.ID, ProfileID: c.ProfileID, DuplicateOfID: c.DuplicateOfID})
		}
	}
	if len(like.Exams) > 0 {
		var exams []certdesk.TranscriptEntry
		if err := db.Where("id IN ?", ids(len(like.Exams), func(i int) string { return like.Exams[i].ID })).Order("id").Find(&exams).Error; err != nil {
			return out, err
		}
		for _, e := range exams {
			out.Exams = append(out.Exams, examRow{ID: e.ID, ProfileID: e.ProfileID})
		}
	}
	return out, nil
}

// mergeRowsOf is the set of rows a merge of these profiles touches, as they
// are: the target and sources with their records, and the profiles merged
// into a source before.
func mergeRowsOf(tx *gorm.DB, target certdesk.CertificationProfile, sources []certdesk.CertificationProfile,
	certs []certdesk.Certification, exams []certdesk.TranscriptEntry) (mergeRows, error) {
	like := mergeRows{TargetID: target.ID}
	like.Profiles = append(like.Profiles, profileRow{ID: target.ID})
	for _, p := range sources {
		like.SourceIDs = append(like.SourceIDs, p.ID)
		like.Profiles = append(like.Profiles, profileRow{ID: p.ID})
	}
	var chain []string
	if err := tx.Model(&certdesk.CertificationProfile{}).Where("merged_into_id IN ?", like.SourceIDs).Pluck("id", &chain).Error; err != nil {
		return like, err
	}
	for _, id := range chain {
		like.Profiles = append(like.Profiles, profileRow{ID: id})
	}
	for _, c := range certs {
		like.Certifications = append(like.Certifications, certRow{ID: c.ID})
	}
	for _, e := range exams {
		like.Exams = append(like.Exams, examRow{ID: e.ID})
	}
	return readMergeRows(tx, like)
}

// saveSnapshot records what a merge changed, in the merge's transaction.
func (s *Store) saveSnapshot(tx *gorm.DB, caseID string, before mergeRows) error {
	after, err := readMergeRows(tx, before)
	if err != nil {
		return err
	}
	b, err := json.Marshal(before)
	if err != nil {
		return err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return tx.Create(&snapshotRow{CaseID: caseID, TargetID: before.TargetID, MergedAt: s.now(), BeforeRows: b, AfterRows: a}).Error
}

// undo is a merge's snapshot, read for its undo.
type undo struct {
	row           snapshotRow
	before, after mergeRows
	merge         caseRow
}

// loadUndo reads a merge case and its snapshot, refusing (ECONFLICT, with
// the reason) a merge that cannot be undone whatever the rows say.
func (s *Store) loadUndo(db *gorm.DB, mergeCaseID string, window time.Duration, lock bool) (undo, error) {
	var u undo
	if err := db.Where("id = ?", mergeCaseID).Take(&u.merge).Error; err != nil {
		return u, translate(err)
	}
	m := u.merge
	switch {
	case m.Kind != certdesk.KindMerge:
		return u, certdesk.Errorf(certdesk.ECONFLICT, "case %s is a %s case: only a merge can be undone", m.ID, m.Kind)
	case m.Status != certdesk.StatusCompleted || m.Resolution != certdesk.MergeMerged:
		return u, certdesk.Errorf(certdesk.ECONFLICT, "this merge case ended %s (%s): only a merge that moved profiles can be undone", m.Status, m.Resolution)
	}
	q := db
	if lock {
		q = s.forUpdate(db)
	}
	err := q.Where("case_id = ?", mergeCaseID).Take(&u.row).Error
	if err == gorm.ErrRecordNotFound {
		return u, certdesk.Errorf(certdesk.ECONFLICT, "this merge was made before certdesk recorded what merges change, so it cannot be undone exactly")
	} else if err != nil {
		return u, err
	}
	if u.row.UndoneBy != nil {
		return u, certdesk.Errorf(certdesk.ECONFLICT, "this merge was undone already, by case %s", *u.row.UndoneBy)
	}
	if window <= 0 {
		window = certdesk.DefaultUnmergeWindow
	}
	if until := u.row.MergedAt.Add(window); s.now().After(until) {
		return u, certdesk.Errorf(certdesk.ECONFLICT, "the merge was made on %s, more than %s ago (the undo window, CERTDESK_UNMERGE_WINDOW): it can no longer be undone",
			u.row.MergedAt.UTC().Format("2 January 2006"), days(window))
	}
	if err := json.Unmarshal(u.row.BeforeRows, &u.before); err != nil {
		return u, fmt.Errorf("merge snapshot %s: %w", mergeCaseID, err)
	}
	if err := json.Unmarshal(u.row.AfterRows, &u.after); err != nil {
		return u, fmt.Errorf("merge snapshot %s: %w", mergeCaseID, err)
	}
	return u, nil
}

func days(d time.Duration) string {
	if n := int(d / (24 * time.Hour)); n >= 1 && d%(24*time.Hour) == 0 {
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// checkUndo compares the rows with what the merge left: a row changed
// since is refused, naming the profile and the case that changed it. The
// target's connection is the one change allowed, when the merge's own
// parent connect case made it; it stays with the target, and the undo is
// refused when the learner's sign-in does not own the target. A case still
// open on the profiles (other than except) is refused too.
func (s *Store) checkUndo(db *gorm.DB, u undo, except string) error {
	now, err := readMergeRows(db, u.after)
	if err != nil {
		return err
	}
	mcids, err := s.mcidsOf(db, u.before)
	if err != nil {
		return err
	}
	name := func(id string) string {
		if m := mcids[id]; m != "" {
			return "MCID " + m
		}
		return "profile " + id
	}
	after := map[string]profileRow{}
	for _, p := range u.after.Profiles {
		after[p.ID] = p
	}
	// The case that made a change: the first opened since the merge about
	// the profile, else about any of the merge's profiles (a later merge
	// of the target re-points the sources too).
	changed := func(profileID, what string) error {
		why := name(profileID) + " " + what + " after this merge"
		for _, id := range append([]string{profileID}, u.before.profileIDs()...) {
			c, ok, err := s.laterCase(db, id, u.row.MergedAt, except)
			if err != nil {
				return err
			}
			if ok {
				why += ", by " + string(c.Kind) + " case " + c.ID
				break
			}
		}
		return certdesk.Errorf(certdesk.ECONFLICT, "%s: undoing the merge would lose that change", why)
	}
	if len(now.Profiles) != len(u.after.Profiles) {
		return certdesk.Errorf(certdesk.ECONFLICT, "a profile of this merge no longer exists")
	}
	// The target first: a change to it is the one to name.
	slices.SortStableFunc(now.Profiles, func(a, b profileRow) int {
		return cmp.Compare(isTarget(b.ID, u.after.TargetID), isTarget(a.ID, u.after.TargetID))
	})
	for _, p := range now.Profiles {
		a := after[p.ID]
		switch {
		case p.Status != a.Status || !sameID(p.MergedIntoID, a.MergedIntoID):
			return changed(p.ID, "was merged or changed status")
		case !sameID(p.OwnerAccountID, a.OwnerAccountID):
			return changed(p.ID, "changed owner account")
		case !sameID(p.ConnectedLearningProfileID, a.ConnectedLearningProfileID):
			if p.ID != u.after.TargetID || !s.connectedByParent(db, u.merge, p) {
				return changed(p.ID, "was connected or disconnected")
			}
		}
		if p.ID == u.after.TargetID && p.ConnectedLearningProfileID != nil {
			if err := s.ownedBySignIn(db, p, name(p.ID)); err != nil {
				return err
			}
		}
	}
	if len(now.Certifications) != len(u.after.Certifications) || len(now.Exams) != len(u.after.Exams) {
		return certdesk.Errorf(certdesk.ECONFLICT, "a certification or an exam this merge moved was removed since: the merge cannot be undone exactly")
	}
	for i, c := range now.Certifications {
		if a := u.after.Certifications[i]; c.ProfileID != a.ProfileID || !sameID(c.DuplicateOfID, a.DuplicateOfID) {
			return changed(a.ProfileID, "had its certifications moved or collapsed")
		}
	}
	for i, e := range now.Exams {
		if a := u.after.Exams[i]; e.ProfileID != a.ProfileID {
			return changed(a.ProfileID, "had its exams moved")
		}
	}
	for _, id := range u.before.profileIDs() {
		var open []caseRow
		err := s.aboutProfile(db.Select("id, kind").Where("status NOT IN ? AND id <> ?", terminalStatuses(), except), id).Limit(1).Find(&open).Error
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return certdesk.Errorf(certdesk.ECONFLICT, "%s case %s is open on %s: undo the merge once it has ended", open[0].Kind, open[0].ID, name(id))
		}
	}
	return nil
}

// connectedByParent: the target was connected by the connect case that ran
// this merge as its child, to the learning profile the case is about (a
// merge an inquiry turned into has a parent too, which connects nothing).
func (s *Store) connectedByParent(db *gorm.DB, merge caseRow, p profileRow) bool {
	if merge.ParentCaseID == nil || merge.LearningProfileID == nil || p.ConnectedLearningProfileID == nil ||
		*p.ConnectedLearningProfileID != *merge.LearningProfileID {
		return false
	}
	var n int64
	err := db.Model(&caseRow{}).Where("id = ? AND kind = ?", *merge.ParentCaseID, certdesk.KindConnect).Count(&n).Error
	return err == nil && n == 1
}

// ownedBySignIn refuses an undo that would leave a learner connected to a
// profile no account of theirs owns.
func (s *Store) ownedBySignIn(db *gorm.DB, p profileRow, name string) error {
	var n int64
	if p.OwnerAccountID != nil {
		if err := db.Model(&certdesk.Account{}).Where("id = ? AND learning_profile_id = ?", *p.OwnerAccountID, *p.ConnectedLearningProfileID).Count(&n).Error; err != nil {
			return err
		}
	}
	if n == 0 {
		return certdesk.Errorf(certdesk.ECONFLICT, "the learner's connection is on %s, which no account they sign in with owns: after the undo they would be connected to a profile that is not theirs", name)
	}
	return nil
}

// aboutProfile narrows a case query to the cases about a profile (its
// profiles, or a recovery's chosen one).
func (s *Store) aboutProfile(q *gorm.DB, profileID string) *gorm.DB {
	return q.Where("(' ' || profile_ids || ' ') LIKE ? OR "+s.jsonText("details", "chosen_profile_id")+" = ?", "% "+profileID+" %", profileID)
}

// laterCase finds the first case about a profile opened after t (not
// except, not an unmerge).
func (s *Store) laterCase(db *gorm.DB, profileID string, t time.Time, except string) (caseRow, bool, error) {
	var rows []caseRow
	err := s.aboutProfile(db.Select("id, kind").Where("created_at >= ? AND id <> ? AND kind <> ?", t, except, certdesk.KindUnmerge), profileID).
		Order("created_at, id").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return caseRow{}, false, err
	}
	return rows[0], true, nil
}

// isTarget is 1 for the target, 0 for the others (the target sorts first).
func isTarget(id, target string) int {
	if id == target {
		return 1
	}
	return 0
}

func terminalStatuses() []certdesk.Status {
	var out []certdesk.Status
	for _, st := range certdesk.Statuses {
		if st.Terminal() {
			out = append(out, st)
		}
	}
	return out
}

func sameID(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// mcidsOf maps the snapshot's profiles to their MCIDs.
func (s *Store) mcidsOf(db *gorm.DB, rows mergeRows) (map[string]string, error) {
	ids := make([]string, len(rows.Profiles))
	for i, p := range rows.Profiles {
		ids[i] = p.ID
	}
	var profiles []certdesk.CertificationProfile
	if err := db.Select("id, mcid").Where("id IN ?", ids).Find(&profiles).Error; err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range profiles {
		out[p.ID] = p.MCID
	}
	return out, nil
}

// ReviewUnmerge checks that a merge case can be undone exactly now and
// computes the preview an approver sees: each source back to active with
// what it had, the target with what it keeps, the duplicates apart again.
// A merge that cannot be undone is ECONFLICT with the reason; an unknown
// case ENOTFOUND.
func (s *Store) ReviewUnmerge(ctx context.Context, mergeCaseID string, window time.Duration) (certdesk.UnmergeReview, error) {
	var r certdesk.UnmergeReview
	db := s.db.WithContext(ctx)
	u, err := s.loadUndo(db, mergeCaseID, window, false)
	if err == nil {
		err = s.checkUndo(db, u, "")
	}
	if err != nil {
		return r, fmt.Errorf("store: review unmerge of %q: %w", mergeCaseID, err)
	}
	r, err = s.unmergePreview(db, u)
	if err != nil {
		return r, fmt.Errorf("store: review unmerge of %q: %w", mergeCaseID, err)
	}
	return r, nil
}

// unmergePreview describes what undoing u restores, and whom to tell.
func (s *Store) unmergePreview(db *gorm.DB, u undo) (certdesk.UnmergeReview, error) {
	var r certdesk.UnmergeReview
	shown := append([]string{u.before.TargetID}, u.before.SourceIDs...)
	var profiles []certdesk.CertificationProfile
	if err := db.Where("id IN ?", shown).Find(&profiles).Error; err != nil {
		return r, err
	}
	byID := map[string]certdesk.CertificationProfile{}
	for _, p := range profiles {
		byID[p.ID] = p
	}
	certIDs := make([]string, len(u.before.Certifications))
	for i, c := range u.before.Certifications {
		certIDs[i] = c.ID
	}
	examIDs := make([]string, len(u.before.Exams))
	for i, e := range u.before.Exams {
		examIDs[i] = e.ID
	}
	var (
		certs []certdesk.Certification
		exams []certdesk.TranscriptEntry
	)
	if err := db.Where("id IN ?", certIDs).Order("earned_at, id").Find(&certs).Error; err != nil {
		return r, err
	}
	if err := db.Where("id IN ?", examIDs).Order("taken_at, id").Find(&exams).Error; err != nil {
		return r, err
	}
	certWas := map[string]certRow{}
	for _, c := range u.before.Certifications {
		certWas[c.ID] = c
	}
	examWas := map[string]string{}
	for _, e := range u.before.Exams {
		examWas[e.ID] = e.ProfileID
	}
	statusWas := map[string]string{}
	for _, p := range u.before.Profiles {
		statusWas[p.ID] = p.Status
	}
	d := certdesk.UnmergeDetails{MergeCaseID: u.merge.ID, MergedAt: u.row.MergedAt.UTC(), TargetID: u.before.TargetID}
	for i, c := range u.after.Certifications {
		if !sameID(c.DuplicateOfID, u.before.Certifications[i].DuplicateOfID) {
			d.Uncollapsed++
		}
	}
	for _, id := range shown {
		p := byID[id]
		up := certdesk.UnmergeProfile{ID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Target: id == u.before.TargetID,
			Status: p.Status, After: statusWas[id], Certifications: []certdesk.MergeItem{}, Transcript: []certdesk.MergeItem{}}
		for _, c := range certs {
			if w := certWas[c.ID]; w.ProfileID == id && w.DuplicateOfID == nil {
				up.Certifications = append(up.Certifications, certdesk.MergeItem{ID: c.ID, Code: c.Code, Title: c.Title, At: c.EarnedAt})
			}
		}
		for _, e := range exams {
			if examWas[e.ID] == id {
				up.Transcript = append(up.Transcript, certdesk.MergeItem{ID: e.ID, Code: e.ExamCode, Title: e.ExamTitle, At: e.TakenAt})
			}
		}
		if up.Target {
			d.TargetMCID = p.MCID
		}
		d.Profiles = append(d.Profiles, up)
		r.ProfileIDs, r.MCIDs = append(r.ProfileIDs, p.ID), append(r.MCIDs, p.MCID)
	}
	r.Details = d
	owners, err := s.profileOwners(db, profiles, shown)
	if err != nil {
		return r, err
	}
	r.Owners = owners
	if u.merge.LearningProfileID != nil {
		r.LearningProfileID = *u.merge.LearningProfileID
	}
	if u.merge.AccountID != nil {
		r.AccountID = *u.merge.AccountID
	}
	return r, nil
}

// profileOwners is whom an undo is told to: each profile's owner account
// (else the profile's own address), once per address, in the profiles'
// order.
func (s *Store) profileOwners(db *gorm.DB, profiles []certdesk.CertificationProfile, order []string) ([]certdesk.UnmergeOwner, error) {
	var ownerIDs []string
	for _, p := range profiles {
		if p.OwnerAccountID != nil {
			ownerIDs = append(ownerIDs, *p.OwnerAccountID)
		}
	}
	var accounts []certdesk.Account
	if len(ownerIDs) > 0 {
		if err := db.Where("id IN ?", ownerIDs).Find(&accounts).Error; err != nil {
			return nil, err
		}
	}
	var out []certdesk.UnmergeOwner
	for _, id := range order {
		i := slices.IndexFunc(profiles, func(p certdesk.CertificationProfile) bool { return p.ID == id })
		if i < 0 {
			continue
		}
		p := profiles[i]
		to := certdesk.UnmergeOwner{Email: p.Email, Name: p.LegalName, MCID: p.MCID}
		if p.OwnerAccountID != nil {
			if j := slices.IndexFunc(accounts, func(a certdesk.Account) bool { return a.ID == *p.OwnerAccountID }); j >= 0 && accounts[j].Email != "" {
				to.Email = accounts[j].Email
			}
		}
		to.Email = certdesk.NormalizeEmail(to.Email)
		if to.Email != "" && !slices.ContainsFunc(out, func(r certdesk.UnmergeOwner) bool { return r.Email == to.Email }) {
			out = append(out, to)
		}
	}
	return out, nil
}

// UnmergeRequest is an approved undo, run by an unmerge case.
type UnmergeRequest struct {
	CaseID string
	// WorkflowStep numbers the case's "unmerged" event; a step the case
	// applied before answers what it restored.
	WorkflowStep int64
	Actor        certdesk.Actor
	MergeCaseID  string
	Window       time.Duration
}

// UnmergeProfiles undoes a merge in one transaction: every row the merge
// changed goes back to what it was (the profiles' status and merged_into,
// the certifications' profile and duplicate_of, the exams' profile; the
// target's connection stays where it is), each profile's history records
// it, certification_profile.unmerged is emitted, the merge case's
// timeline says it was undone and the unmerge case's gets "unmerged".
// The checks of ReviewUnmerge run again under lock: a merge that can no
// longer be undone exactly is ECONFLICT and changes nothing. Running it
// again answers what the first run restored.
func (s *Store) UnmergeProfiles(ctx context.Context, m UnmergeRequest) (certdesk.UnmergeCounts, error) {
	var out certdesk.UnmergeCounts
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var c caseRow
		if err := s.forUpdate(tx).Where("id = ?", m.CaseID).Take(&c).Error; err != nil {
			return err
		}
		if m.WorkflowStep > 0 && c.WorkflowStep >= m.WorkflowStep {
			return recordedUnmerge(tx, c.ID, &out)
		}
		u, err := s.loadUndo(tx, m.MergeCaseID, m.Window, true)
		if err != nil {
			return err
		}
		ids := slices.Sorted(slices.Values(u.before.profileIDs()))
		var locked []certdesk.CertificationProfile
		if err := s.forUpdate(tx).Where("id IN ?", ids).Order("id").Find(&locked).Error; err != nil {
			return err
		}
		if err := s.checkUndo(tx, u, c.ID); err != nil {
			return err
		}
		out, err = s.applyUnmerge(tx, u)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.Model(&snapshotRow{}).Where("case_id = ?", u.merge.ID).Updates(map[string]any{"undone_by": c.ID, "undone_at": now}).Error; err != nil {
			return err
		}
		if err := s.recordHistory(tx, ids, "unmerge", "status merged_into"); err != nil {
			return err
		}
		mcids, err := s.mcidsOf(tx, u.before)
		if err != nil {
			return err
		}
		de := certdesk.ProfileUnmergedData{CaseID: c.ID, MergeCaseID: u.merge.ID,
			Target: certdesk.ProfileRef{ID: u.before.TargetID, MCID: mcids[u.before.TargetID]}, UnmergeCounts: out}
		for _, id := range u.before.SourceIDs {
			de.Sources = append(de.Sources, certdesk.ProfileRef{ID: id, MCID: mcids[id]})
		}
		if err := s.emit(tx, certdesk.EventProfileUnmerged, u.before.TargetID, fmt.Sprintf("unmerged:%s:%d", c.ID, m.WorkflowStep), de); err != nil {
			return err
		}
		if _, _, err := s.changeCase(tx, Change{CaseID: u.merge.ID, Event: Event{Actor: m.Actor, Type: certdesk.EventMergeUndone,
			Data: map[string]any{"unmerge_case_id": c.ID}}}); err != nil {
			return err
		}
		_, _, err = s.changeCase(tx, Change{CaseID: c.ID, WorkflowStep: m.WorkflowStep, Event: Event{Actor: m.Actor, Type: certdesk.EventUnmerged,
			Data: map[string]any{"merge_case_id": u.merge.ID, "target_mcid": de.Target.MCID, "restored": de.Sources, "counts": out}}})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: unmerge %q: %w", m.MergeCaseID, err)
	}
	return out, nil
}

// applyUnmerge writes a snapshot's "before" over the rows it names (the
// target's connection aside) and counts what went back.
func (s *Store) applyUnmerge(tx *gorm.DB, u undo) (certdesk.UnmergeCounts, error) {
	var out certdesk.UnmergeCounts
	now := s.now()
	for i, c := range u.before.Certifications {
		a := u.after.Certifications[i]
		if c.ProfileID == a.ProfileID && sameID(c.DuplicateOfID, a.DuplicateOfID) {
			continue
		}
		if c.ProfileID != a.ProfileID {
			out.CertificationsReturned++
		}
		if !sameID(c.DuplicateOfID, a.DuplicateOfID) {
			out.Uncollapsed++
		}
		if err := tx.Model(&certdesk.Certification{}).Where("id = ?", c.ID).
			Updates(map[string]any{"profile_id": c.ProfileID, "duplicate_of_id": c.DuplicateOfID}).Error; err != nil {
			return out, err
		}
	}
	back := map[string][]string{}
	for i, e := range u.before.Exams {
		if e.ProfileID != u.after.Exams[i].ProfileID {
			back[e.ProfileID] = append(back[e.ProfileID], e.ID)
			out.TranscriptReturned++
		}
	}
	for _, profileID := range sortedKeys(back) {
		if err := tx.Model(&certdesk.TranscriptEntry{}).Where("id IN ?", back[profileID]).Update("profile_id", profileID).Error; err != nil {
			return out, err
		}
	}
	for _, p := range u.before.Profiles {
		if p.ID == u.before.TargetID {
			continue
		}
		if err := tx.Model(&certdesk.CertificationProfile{}).Where("id = ?", p.ID).
			Updates(map[string]any{"status": p.Status, "merged_into_id": p.MergedIntoID, "updated_at": now}).Error; err != nil {
			return out, err
		}
	}
	if err := tx.Model(&certdesk.CertificationProfile{}).Where("id = ?", u.before.TargetID).Update("updated_at", now).Error; err != nil {
		return out, err
	}
	out.ProfilesRestored = len(u.before.SourceIDs)
	return out, nil
}

// recordHistory appends each profile's state to its history.
func (s *Store) recordHistory(tx *gorm.DB, ids []string, source, changed string) error {
	for _, id := range ids {
		err := tx.Exec(`INSERT INTO certification_profile_history (id, profile_id, at, source, changed, legal_name, email, owner_account_id, status, merged_into_id, deactivated_at)
SELECT ?, id, ?, ?, ?, legal_name, email, owner_account_id, status, merged_into_id, deactivated_at FROM certification_profiles WHERE id = ?`,
			certdesk.NewID(), s.now(), source, changed, id).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// recordedUnmerge reads the counts a case's undo recorded.
func recordedUnmerge(tx *gorm.DB, caseID string, out *certdesk.UnmergeCounts) error {
	var ev certdesk.CaseEvent
	if err := tx.Where("case_id = ? AND type = ?", caseID, certdesk.EventUnmerged).Order("seq DESC").Take(&ev).Error; err != nil {
		return fmt.Errorf("the case's unmerge step was applied but its event is missing: %w", err)
	}
	var data struct {
		Counts certdesk.UnmergeCounts `json:"counts"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return fmt.Errorf("the case's unmerged event: %w", err)
	}
	*out = data.Counts
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}

// OpenChild returns the open case of a kind whose parent is parentID (an
// undo of a merge), if there is one.
func (s *Store) OpenChild(ctx context.Context, parentID string, kind certdesk.Kind) (certdesk.Case, bool, error) {
	var rows []caseRow
	err := s.db.WithContext(ctx).Where("parent_case_id = ? AND kind = ? AND status NOT IN ?", parentID, kind, terminalStatuses()).
		Order("created_at DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return certdesk.Case{}, false, fmt.Errorf("store: open %s case of %q: %w", kind, parentID, translate(err))
	}
	if len(rows) == 0 {
		return certdesk.Case{}, false, nil
	}
	return rows[0].domain(), true, nil
}
