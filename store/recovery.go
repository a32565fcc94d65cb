package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// RecoveryQuery is what a recovery claim says that can find profiles.
type RecoveryQuery struct {
	LegalName     string
	ContactEmail  string
	MCID          string
	PreviousEmail string
	// Exam is the code of an exam the requester says they passed.
	Exam string
	// CaseID is the recovery case asking (left out of the candidates'
	// recent cases).
	CaseID string
}

// MatchRecovery finds the certification profiles a recovery claim may be
// about, each with the evidence and its strength, strongest first:
// the profile with the MCID given, the profiles whose email or owning
// account's email is the lost sign-in, and those whose legal name matches
// with the contact address as their email or their owner's. A profile
// merged into another stands for its survivor.
func (s *Store) MatchRecovery(ctx context.Context, q RecoveryQuery) ([]certdesk.RecoveryCandidate, error) {
	out, err := s.matchRecovery(ctx, q)
	if err != nil {
		err = fmt.Errorf("store: match recovery claim: %w", translate(err))
		logErr(ctx, "MatchRecovery", err)
	}
	return out, err
}

func (s *Store) matchRecovery(ctx context.Context, q RecoveryQuery) ([]certdesk.RecoveryCandidate, error) {
	db := s.db.WithContext(ctx)
	q.ContactEmail, q.PreviousEmail = certdesk.NormalizeEmail(q.ContactEmail), certdesk.NormalizeEmail(q.PreviousEmail)
	name := certdesk.NormalizeName(q.LegalName)
	var emails []string
	for _, e := range []string{q.ContactEmail, q.PreviousEmail} {
		if e != "" {
			emails = append(emails, e)
		}
	}
	if len(emails) == 0 && q.MCID == "" {
		return []certdesk.RecoveryCandidate{}, nil
	}
	owners := db.Model(&certdesk.Account{}).Select("id").Where("email IN ?", emails)
	var found []certdesk.CertificationProfile
	err := db.Where("mcid = ?", q.MCID).Or("email IN ?", emails).Or("owner_account_id IN (?)", owners).
		Order("id").Find(&found).Error
	if err != nil {
		return nil, err
	}

	byID := map[string]*certdesk.RecoveryCandidate{}
	var order []string
	for _, p := range found {
		ownerEmail, _, err := s.ownerOf(db, p)
		if err != nil {
			return nil, err
		}
		onFile := func(e string) string {
			switch {
			case e == "":
				return ""
			case e == p.Email && e == ownerEmail:
				return "the profile's email and its owning account's"
			case e == p.Email:
				return "the profile's email"
			case e == ownerEmail:
				return "the email of the account that owns the profile"
			}
			return ""
		}
		var ev []certdesk.Evidence
		if q.MCID != "" && p.MCID == q.MCID {
			ev = append(ev, certdesk.Evidence{Kind: certdesk.EvidenceMCID, Detail: "MCID " + p.MCID + " is given in the request"})
		}
		if where := onFile(q.PreviousEmail); where != "" {
			ev = append(ev, certdesk.Evidence{Kind: certdesk.EvidencePreviousEmail, Detail: "the lost sign-in is " + where})
		}
		if where := onFile(q.ContactEmail); where != "" && certdesk.NormalizeName(p.LegalName) == name {
			ev = append(ev, certdesk.Evidence{Kind: certdesk.EvidenceContactEmail, Detail: "the verified contact address is " + where})
		}
		if len(ev) == 0 {
			continue // the contact address alone, with another name
		}
		survivor, err := survivorOf(db, p)
		if err != nil {
			return nil, err
		}
		if survivor.ID != p.ID {
			for i := range ev {
				ev[i].Detail += fmt.Sprintf(" (of MCID %s, merged into this profile)", p.MCID)
			}
		}
		c, ok := byID[survivor.ID]
		if !ok {
			_, status, err := s.ownerOf(db, survivor)
			if err != nil {
				return nil, err
			}
			c = &certdesk.RecoveryCandidate{ProfileID: survivor.ID, MCID: survivor.MCID, LegalName: survivor.LegalName, OwnerStatus: status}
			if certdesk.NormalizeName(survivor.LegalName) == name {
				c.Evidence = append(c.Evidence, certdesk.Evidence{Kind: certdesk.EvidenceLegalName, Detail: "the legal name matches the profile's"})
			}
			if passed, err := passedExam(db, survivor.ID, q.Exam); err != nil {
				return nil, err
			} else if passed {
				c.Evidence = append(c.Evidence, certdesk.Evidence{Kind: certdesk.EvidenceExam, Detail: "exam " + q.Exam + " was passed on this profile"})
			}
			if c.Recent, c.Flags, err = s.recentCases(db, survivor, q.CaseID); err != nil {
				return nil, err
			}
			byID[survivor.ID] = c
			order = append(order, survivor.ID)
		}
		for _, e := range ev {
			if !slices.ContainsFunc(c.Evidence, func(x certdesk.Evidence) bool { return x.Kind == e.Kind }) {
				c.Evidence = append(c.Evidence, e)
			}
		}
	}

	out := make([]certdesk.RecoveryCandidate, 0, len(order))
	for _, id := range order {
		c := byID[id]
		sort.SliceStable(c.Evidence, func(i, j int) bool { return evidenceRank(c.Evidence[i].Kind) < evidenceRank(c.Evidence[j].Kind) })
		c.Strength = certdesk.RecoveryStrength(c.Evidence, c.Flags)
		out = append(out, *c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := certdesk.StrengthRank(out[i].Strength), certdesk.StrengthRank(out[j].Strength); ri != rj {
			return ri < rj
		}
		return out[i].MCID < out[j].MCID
	})
	return out, nil
}

func evidenceRank(kind string) int {
	return slices.Index([]string{certdesk.EvidenceMCID, certdesk.EvidenceLegalName, certdesk.EvidencePreviousEmail,
		certdesk.EvidenceExam, certdesk.EvidenceContactEmail}, kind)
}

// jsonText is the SQL of a JSON column's text field.
func (s *Store) jsonText(column, field string) string {
	if s.dialect == "postgres" {
		return column + "->>'" + field + "'"
	}
	return "json_extract(" + column + ", '$." + field + "')"
}

// passedExam reports whether an exam of this code was passed on a profile.
func passedExam(db *gorm.DB, profileID, code string) (bool, error) {
	if code == "" {
		return false, nil
	}
	var n int64
	err := db.Model(&certdesk.TranscriptEntry{}).Where("profile_id = ? AND UPPER(exam_code) = ? AND passed", profileID, strings.ToUpper(code)).Count(&n).Error
	return n > 0, err
}

// recentCases lists the cases about a profile in the last
// certdesk.RecentWindow (a recovery's chosen profile, or a case's profiles),
// newest first, and flags what they did to it.
func (s *Store) recentCases(db *gorm.DB, p certdesk.CertificationProfile, exclude string) ([]certdesk.RecentCase, []string, error) {
	since := s.now().Add(-certdesk.RecentWindow)
	var cases []caseRow
	err := db.Select("id, kind, status, resolution, created_at, closed_at").
		Where("created_at >= ? AND id <> ?", since, exclude).
		Where("profile_ids LIKE ? OR "+s.jsonText("details", "chosen_profile_id")+" = ?", "%"+p.ID+"%", p.ID).
		Order("created_at DESC, id DESC").Limit(20).Find(&cases).Error
	if err != nil {
		return nil, nil, err
	}
	var (
		recent []certdesk.RecentCase
		flags  []string
	)
	flag := func(f string) {
		if !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	for _, c := range cases {
		recent = append(recent, certdesk.RecentCase{ID: c.ID, Kind: c.Kind, Status: c.Status, Resolution: c.Resolution, CreatedAt: c.CreatedAt})
		switch {
		case c.Kind == certdesk.KindRecovery && (c.Status == certdesk.StatusCompleted || c.Status == certdesk.StatusCoolingOff):
			flag(certdesk.FlagRecentlyRecovered)
		case c.Kind == certdesk.KindMerge && c.Status == certdesk.StatusCompleted:
			flag(certdesk.FlagRecentlyMerged)
		case c.Kind == certdesk.KindConnect && c.Status == certdesk.StatusCompleted:
			flag(certdesk.FlagRecentlyConnected)
		}
	}
	if p.ConnectedAt != nil && p.ConnectedAt.After(since) {
		flag(certdesk.FlagRecentlyConnected)
	}
	return recent, flags, nil
}

// ownerOf returns the email and status of the account that owns a profile
// ("" for a profile without owner).
func (s *Store) ownerOf(db *gorm.DB, p certdesk.CertificationProfile) (email, status string, err error) {
	if p.OwnerAccountID == nil {
		return "", "", nil
	}
	var a certdesk.Account
	if err := db.Where("id = ?", *p.OwnerAccountID).Take(&a).Error; err != nil {
		return "", "", err
	}
	return a.Email, a.Status, nil
}

// AddressesOnFile lists every address certdesk holds for a certification
// profile: its email, the email of the account that owns it, and the
// accounts of the learning profiles it belongs to (its owner's, and the one
// it is connected to). A recovery warns each of them. exclude (the account
// the profile is to move to) is left out.
func (s *Store) AddressesOnFile(ctx context.Context, profileID, exclude string) (certdesk.ProfileAddresses, error) {
	db := s.db.WithContext(ctx)
	var (
		p   certdesk.CertificationProfile
		out certdesk.ProfileAddresses
	)
	if err := db.Where("id = ?", profileID).Take(&p).Error; err != nil {
		return out, fmt.Errorf("store: addresses of profile %q: %w", profileID, translate(err))
	}
	out = certdesk.ProfileAddresses{ProfileID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Emails: []string{p.Email}}
	var lps []string
	if p.ConnectedLearningProfileID != nil {
		lps = append(lps, *p.ConnectedLearningProfileID)
	}
	if p.OwnerAccountID != nil {
		var owner certdesk.Account
		if err := db.Where("id = ?", *p.OwnerAccountID).Take(&owner).Error; err != nil {
			return out, fmt.Errorf("store: owner of profile %q: %w", profileID, translate(err))
		}
		out.Emails = append(out.Emails, owner.Email)
		if owner.LearningProfileID != nil {
			lps = append(lps, *owner.LearningProfileID)
		}
	}
	if len(lps) > 0 {
		var more []string
		if err := db.Model(&certdesk.Account{}).Where("learning_profile_id IN ?", lps).Pluck("email", &more).Error; err != nil {
			return out, fmt.Errorf("store: accounts of profile %q: %w", profileID, translate(err))
		}
		out.Emails = append(out.Emails, more...)
	}
	exclude = certdesk.NormalizeEmail(exclude)
	for i, e := range out.Emails {
		out.Emails[i] = certdesk.NormalizeEmail(e)
	}
	out.Emails = slices.DeleteFunc(out.Emails, func(e string) bool { return e == "" || e == exclude })
	slices.Sort(out.Emails)
	out.Emails = slices.Compact(out.Emails)
	return out, nil
}

// RebindProfile binds a recovered certification profile to the personal
// account with this email, in one transaction: the account is created when
// certdesk does not know it, made active (a completed recovery is the one
// way back from inactive), and becomes the profile's owner. Nothing else on
// the profile changes. Running it again changes nothing. A merged profile
// or a work account is ECONFLICT.
func (s *Store) RebindProfile(ctx context.Context, profileID, email, displayName string, at time.Time) (certdesk.Rebinding, error) {
	email = certdesk.NormalizeEmail(email)
	at = at.UTC()
	r, err := s.rebind(ctx, profileID, email, displayName, at)
	if errors.Is(err, certdesk.ErrConflict) && r.AccountCreated {
		// Another transaction created the account first: bind to it.
		r, err = s.rebind(ctx, profileID, email, displayName, at)
	}
	if err != nil {
		err = fmt.Errorf("store: rebind profile %q: %w", profileID, err)
		logErr(ctx, "RebindProfile", err)
	}
	return r, err
}

func (s *Store) rebind(ctx context.Context, profileID, email, displayName string, at time.Time) (certdesk.Rebinding, error) {
	r := certdesk.Rebinding{ProfileID: profileID}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var p certdesk.CertificationProfile
		if err := s.forUpdate(tx).Where("id = ?", profileID).Take(&p).Error; err != nil {
			return err
		}
		if p.Status == certdesk.ProfileMerged {
			return certdesk.Errorf(certdesk.ECONFLICT, "MCID %s was merged into another profile; recover that one", p.MCID)
		}
		r.MCID = p.MCID
		if p.OwnerAccountID != nil {
			r.PreviousOwnerID = *p.OwnerAccountID
		}
		var a certdesk.Account
		err := s.forUpdate(tx).Where("email = ?", email).Take(&a).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			a = certdesk.Account{ID: certdesk.NewID(), Email: email, Kind: certdesk.AccountPersonal, DisplayName: displayName,
				Status: certdesk.AccountActive, CreatedAt: at}
			r.AccountCreated = true
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		case a.Kind != certdesk.AccountPersonal:
			return certdesk.Errorf(certdesk.ECONFLICT, "the new account is a %s account; a certification profile is bound to a personal account", a.Kind)
		case a.Status != certdesk.AccountActive:
			err := tx.Model(&certdesk.Account{}).Where("id = ?", a.ID).
				Updates(map[string]any{"status": certdesk.AccountActive, "reactivated_at": at}).Error
			if err != nil {
				return err
			}
			r.Reactivated = true
			err = s.emit(tx, certdesk.EventAccountReactivated, a.ID, "reactivated:"+a.ID+":"+at.Format(time.RFC3339Nano), certdesk.AccountChangedData{
				Account: certdesk.AccountRef{ID: a.ID, Email: a.Email}, Status: certdesk.AccountActive, Reason: "recovery"})
			if err != nil {
				return err
			}
		}
		r.AccountID = a.ID
		if r.PreviousOwnerID == a.ID {
			r.AlreadyBound = true
			return nil
		}
		err = tx.Model(&certdesk.CertificationProfile{}).Where("id = ?", p.ID).
			Updates(map[string]any{"owner_account_id": a.ID, "updated_at": at}).Error
		if err != nil {
			return err
		}
		ev := certdesk.ProfileReboundData{CertificationProfile: certdesk.ProfileRef{ID: p.ID, MCID: p.MCID},
			Account: certdesk.AccountRef{ID: a.ID, Email: a.Email}, AccountCreated: r.AccountCreated}
		if r.PreviousOwnerID != "" {
			var prev certdesk.Account
			if err := tx.Where("id = ?", r.PreviousOwnerID).Take(&prev).Error; err != nil {
				return err
			}
			ev.PreviousAccount = &certdesk.AccountRef{ID: prev.ID, Email: prev.Email}
		}
		return s.emit(tx, certdesk.EventProfileRebound, p.ID, "rebound:"+p.ID+":"+a.ID+":"+at.Format(time.RFC3339Nano), ev)
	})
	return r, err
}
