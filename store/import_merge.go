package store

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// The merge: what changed between a batch of staged records and the
// domain's tables, and how to apply it, as SQL both databases run (UPDATE …
// FROM, IS DISTINCT FROM). One batch is lines @lo to @hi of the staging
// tables, merged in the caller's transaction; the single upserts of the
// integration API stage one record and run the same statements.
//
// A staged record ends with refusal set (refusal_code invalid or conflict,
// refusal_field naming the field), or applied: no existing row (inserted),
// or an existing one with changed "" (unchanged) or the words of what
// changed (updated).

// batch is the lines of one merge and what it runs with.
type batch struct {
	lo, hi int
	now    time.Time
	source string // certification_profile_history.source
	// keepExisting leaves existing rows as they are (the demo world's
	// seed): their records count as unchanged.
	keepExisting bool
}

// counts is what a batch did.
type counts struct {
	Inserted, Updated, Unchanged, Refused int
	Certifications, Exams                 int // added
}

func (c *counts) add(o counts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Refused += o.Refused
	c.Certifications += o.Certifications
	c.Exams += o.Exams
}

// mergeSQL fills in a statement for the dialect: a timestamp parameter
// PostgreSQL cannot type from its place, the open statuses, and a field
// of a case's details.
func (s *Store) mergeSQL(q string) string {
	var open []string
	for _, st := range certdesk.Statuses {
		if !st.Terminal() {
			open = append(open, "'"+string(st)+"'")
		}
	}
	now := "@now"
	if s.dialect == "postgres" {
		now = "CAST(@now AS TIMESTAMPTZ)"
	}
	return strings.NewReplacer("@now", now, "OPEN_STATUSES", strings.Join(open, ", "),
		"CHOSEN_PROFILE", s.jsonText("k.details", "chosen_profile_id")).Replace(q)
}

// run runs statements in order, each with the batch's parameters, and
// returns the rows each affected.
func (s *Store) run(tx *gorm.DB, b batch, stmts ...string) ([]int, error) {
	args := map[string]any{"lo": b.lo, "hi": b.hi, "now": b.now, "source": b.source}
	affected := make([]int, len(stmts))
	for i, q := range stmts {
		r := tx.Exec(s.mergeSQL(q), args)
		if r.Error != nil {
			return nil, r.Error
		}
		affected[i] = int(r.RowsAffected)
	}
	return affected, nil
}

// Refusals of the staged rows themselves: a key that appears on an
// earlier line of the same file.
const refuseDuplicates = `
UPDATE STAGE AS p SET refusal = 'is on line ' || d.first || ' of this file too: only that line is taken',
    refusal_code = 'invalid', refusal_field = 'KEY'
FROM (SELECT KEY AS k, MIN(line) AS first FROM STAGE WHERE KEY <> '' GROUP BY KEY HAVING COUNT(*) > 1) d
WHERE p.KEY = d.k AND p.line > d.first AND p.refusal IS NULL`

func duplicatesSQL(t stageTable, key string) string {
	return strings.NewReplacer("STAGE", t.name, "KEY", key).Replace(refuseDuplicates)
}

// keepSQL counts every existing row of a batch unchanged (the seed's
// keepExisting): the statements after it apply nothing to them.
func keepSQL(t stageTable, existing string) string {
	return "UPDATE " + t.name + " SET changed = '' WHERE line BETWEEN @lo AND @hi AND refusal IS NULL AND " + existing + " IS NOT NULL"
}

// Profiles.
const (
	// profilesLock holds the batch's existing profiles until the batch
	// commits (PostgreSQL; SQLite's writer holds the database).
	profilesLock = `
SELECT c.id FROM certification_profiles c
WHERE c.mcid IN (SELECT p.mcid FROM import_profiles p WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL)
FOR UPDATE`

	profilesResolve = `
UPDATE import_profiles AS p SET profile_id = c.id
FROM certification_profiles c
WHERE c.mcid = p.mcid AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL`

	profilesOwner = `
UPDATE import_profiles AS p SET owner_id = a.id
FROM accounts a
WHERE a.email = p.owner_email AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.owner_email <> ''`

	profilesUnknownOwner = `
UPDATE import_profiles SET refusal = 'certdesk has no account with this address: the account must come first',
    refusal_code = 'invalid', refusal_field = 'owner_email'
WHERE line BETWEEN @lo AND @hi AND refusal IS NULL AND owner_email <> '' AND owner_id IS NULL`

	profilesSurvivor = `
UPDATE import_profiles AS p SET merged_into_id = c.id
FROM certification_profiles c
WHERE c.mcid = p.merged_into AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL
    AND p.merged_into <> '' AND p.merged_into_id IS NULL`

	// A merge moves certifications and collapses duplicates; only a merge
	// case does that, and only an unmerge case undoes it.
	profilesMergeChange = `
UPDATE import_profiles AS p SET refusal = CASE
        WHEN c.status <> 'merged' THEN 'certdesk has this profile active: a merge moves its certifications and exams, so open a merge case instead'
        WHEN p.status = 'merged' THEN 'certdesk has this profile merged into another profile: a merge is changed by an unmerge case, not by a record'
        ELSE 'certdesk has this profile merged: a merge is undone by an unmerge case, not by a record' END,
    refusal_code = 'conflict', refusal_field = 'status'
FROM certification_profiles c
WHERE c.id = p.profile_id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL
    AND ((c.status = 'merged') <> (p.status = 'merged') OR (c.status = 'merged' AND c.merged_into_id IS DISTINCT FROM p.merged_into_id))`

	// What changed, in words; "" is unchanged. Certifications and exams
	// the record has and the profile lacks (or holds otherwise) change it;
	// those it holds and the record lacks stay.
	profilesChanged = `
UPDATE import_profiles AS p SET changed =
    CASE WHEN c.legal_name <> p.legal_name THEN ' legal_name' ELSE '' END ||
    CASE WHEN c.email <> p.email THEN ' email' ELSE '' END ||
    CASE WHEN c.owner_account_id IS DISTINCT FROM p.owner_id THEN ' owner' ELSE '' END ||
    CASE WHEN (c.deactivated_at IS NULL) <> (p.deactivated_at IS NULL) THEN ' status' ELSE '' END ||
    CASE WHEN EXISTS (SELECT 1 FROM import_certifications s WHERE s.line = p.line AND NOT EXISTS (
        SELECT 1 FROM certifications x WHERE x.profile_id = c.id AND x.code = s.code AND x.earned_at = s.earned_at
            AND x.title = s.title AND x.expires_at IS NOT DISTINCT FROM s.expires_at)) THEN ' certifications' ELSE '' END ||
    CASE WHEN EXISTS (SELECT 1 FROM import_exams s WHERE s.line = p.line AND NOT EXISTS (
        SELECT 1 FROM transcript_entries x WHERE x.profile_id = c.id AND x.exam_code = s.code AND x.taken_at = s.taken_at
            AND x.exam_title = s.title AND x.score = s.score AND x.passed = s.passed)) THEN ' exams' ELSE '' END
FROM certification_profiles c
WHERE c.id = p.profile_id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL`

	// A profile a case works on (connect, merge, recovery) is not changed
	// under it.
	profilesOpenCase = `
UPDATE import_profiles AS p SET refusal = 'takes part in the open case ' || k.id || ': it is not changed while the case is open',
    refusal_code = 'conflict', refusal_field = '', case_id = k.id
FROM cases k
WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed <> '' AND k.status IN (OPEN_STATUSES)
    AND ((' ' || k.profile_ids || ' ') LIKE ('% ' || p.profile_id || ' %')
        OR (' ' || k.mcids || ' ') LIKE ('% ' || p.mcid || ' %')
        OR CHOSEN_PROFILE = p.profile_id)`

	profilesHistory = `
INSERT INTO certification_profile_history (id, profile_id, at, source, changed, legal_name, email, owner_account_id, status, merged_into_id, deactivated_at)
SELECT p.new_id, c.id, @now, @source, TRIM(p.changed), c.legal_name, c.email, c.owner_account_id, c.status, c.merged_into_id, c.deactivated_at
FROM import_profiles p JOIN certification_profiles c ON c.id = p.profile_id
WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed <> ''`

	profilesUpdate = `
UPDATE certification_profiles SET legal_name = p.legal_name, email = p.email, owner_account_id = p.owner_id,
    deactivated_at = CASE WHEN p.deactivated_at IS NULL THEN NULL ELSE COALESCE(certification_profiles.deactivated_at, p.deactivated_at) END,
    updated_at = @now
FROM import_profiles p
WHERE p.profile_id = certification_profiles.id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed <> ''`

	profilesInsert = `
INSERT INTO certification_profiles (id, mcid, legal_name, email, owner_account_id, status, merged_into_id, deactivated_at, created_at, updated_at)
SELECT p.new_id, p.mcid, p.legal_name, p.email, p.owner_id, 'active', NULL, p.deactivated_at, COALESCE(p.created_at, @now), @now
FROM import_profiles p
WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.profile_id IS NULL AND p.status <> 'merged'`

	// Merged profiles go in once their survivor is there: it may be a
	// profile of the same batch, itself merged.
	profilesInsertMerged = `
INSERT INTO certification_profiles (id, mcid, legal_name, email, owner_account_id, status, merged_into_id, created_at, updated_at)
SELECT p.new_id, p.mcid, p.legal_name, p.email, p.owner_id, 'merged', p.merged_into_id, COALESCE(p.created_at, @now), @now
FROM import_profiles p
WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.profile_id IS NULL AND p.status = 'merged'
    AND p.merged_into_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM certification_profiles c WHERE c.id = p.new_id)`

	profilesNoSurvivor = `
UPDATE import_profiles SET refusal = 'certdesk has no profile with the MCID ' || merged_into || ': it comes before the profiles merged into it',
    refusal_code = 'invalid', refusal_field = 'merged_into'
WHERE line BETWEEN @lo AND @hi AND refusal IS NULL AND profile_id IS NULL AND status = 'merged' AND merged_into_id IS NULL`

	certificationsNew = `
INSERT INTO certifications (id, profile_id, code, title, earned_at, expires_at, created_at)
SELECT s.id, p.new_id, s.code, s.title, s.earned_at, s.expires_at, @now
FROM import_certifications s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.profile_id IS NULL`

	certificationsAdded = `
INSERT INTO certifications (id, profile_id, code, title, earned_at, expires_at, created_at)
SELECT s.id, p.profile_id, s.code, s.title, s.earned_at, s.expires_at, @now
FROM import_certifications s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed LIKE '% certifications%'
    AND NOT EXISTS (SELECT 1 FROM certifications x WHERE x.profile_id = p.profile_id AND x.code = s.code AND x.earned_at = s.earned_at)`

	certificationsUpdate = `
UPDATE certifications SET title = s.title, expires_at = s.expires_at
FROM import_certifications s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed LIKE '% certifications%'
    AND certifications.profile_id = p.profile_id AND certifications.code = s.code AND certifications.earned_at = s.earned_at
    AND (certifications.title <> s.title OR certifications.expires_at IS DISTINCT FROM s.expires_at)`

	examsNew = `
INSERT INTO transcript_entries (id, profile_id, exam_code, exam_title, score, passed, taken_at, created_at)
SELECT s.id, p.new_id, s.code, s.title, s.score, s.passed, s.taken_at, @now
FROM import_exams s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.profile_id IS NULL`

	examsAdded = `
INSERT INTO transcript_entries (id, profile_id, exam_code, exam_title, score, passed, taken_at, created_at)
SELECT s.id, p.profile_id, s.code, s.title, s.score, s.passed, s.taken_at, @now
FROM import_exams s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed LIKE '% exams%'
    AND NOT EXISTS (SELECT 1 FROM transcript_entries x WHERE x.profile_id = p.profile_id AND x.exam_code = s.code AND x.taken_at = s.taken_at)`

	examsUpdate = `
UPDATE transcript_entries SET exam_title = s.title, score = s.score, passed = s.passed
FROM import_exams s JOIN import_profiles p ON p.line = s.line
WHERE s.line BETWEEN @lo AND @hi AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed LIKE '% exams%'
    AND transcript_entries.profile_id = p.profile_id AND transcript_entries.exam_code = s.code AND transcript_entries.taken_at = s.taken_at
    AND (transcript_entries.exam_title <> s.title OR transcript_entries.score <> s.score OR transcript_entries.passed <> s.passed)`
)

// mergeProfileRecords merges a batch of staged profile records.
func (s *Store) mergeProfileRecords(tx *gorm.DB, b batch) (counts, error) {
	var c counts
	if s.dialect == "postgres" {
		if err := tx.Exec(s.mergeSQL(profilesLock), map[string]any{"lo": b.lo, "hi": b.hi}).Error; err != nil {
			return c, err
		}
	}
	n, err := s.run(tx, b, profilesResolve, profilesOwner, profilesUnknownOwner, profilesSurvivor)
	if err != nil {
		return c, err
	}
	// What only existing profiles need is left out of a batch without any
	// (a first load).
	existing := n[0] > 0
	var steps []string
	switch {
	case existing && b.keepExisting:
		steps = append(steps, keepSQL(stageProfiles, "profile_id"))
	case existing:
		steps = append(steps, profilesMergeChange, profilesChanged, profilesOpenCase, profilesHistory, profilesUpdate)
	}
	if _, err := s.run(tx, b, append(steps, profilesInsert)...); err != nil {
		return c, err
	}
	// Survivors first, then what was merged into them, a generation at a
	// time.
	for range maxMergeHops {
		n, err := s.run(tx, b, profilesInsertMerged, profilesSurvivor)
		if err != nil {
			return c, err
		}
		if n[0] == 0 && n[1] == 0 {
			break
		}
	}
	steps = []string{profilesNoSurvivor, certificationsNew, examsNew}
	if existing && !b.keepExisting {
		steps = append(steps, certificationsAdded, certificationsUpdate, examsAdded, examsUpdate)
	}
	if n, err = s.run(tx, b, steps...); err != nil {
		return c, err
	}
	c.Certifications, c.Exams = n[1], n[2]
	if len(n) > 3 {
		c.Certifications, c.Exams = c.Certifications+n[3], c.Exams+n[5]
	}
	return s.batchCounts(tx, b, c, stageProfiles, "profile_id")
}

// Accounts. An account's kind does not change (the connect rules read it);
// its last sign-in only moves forward (certdesk may know a later one).
const (
	accountsResolve = `
UPDATE import_accounts AS p SET account_id = a.id
FROM accounts a
WHERE a.email = p.email AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL`

	accountsKind = `
UPDATE import_accounts AS p SET refusal = 'certdesk has this account as ' || a.kind || ': the kind of an account does not change',
    refusal_code = 'conflict', refusal_field = 'kind'
FROM accounts a
WHERE a.id = p.account_id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND a.kind <> p.kind`

	accountsChanged = `
UPDATE import_accounts AS p SET changed =
    CASE WHEN a.display_name <> p.display_name THEN ' display_name' ELSE '' END ||
    CASE WHEN p.last_sign_in_at > a.last_sign_in_at OR (a.last_sign_in_at IS NULL AND p.last_sign_in_at IS NOT NULL)
        THEN ' last_sign_in_at' ELSE '' END
FROM accounts a
WHERE a.id = p.account_id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL`

	accountsUpdate = `
UPDATE accounts SET display_name = p.display_name,
    last_sign_in_at = CASE WHEN p.changed LIKE '% last_sign_in_at%' THEN p.last_sign_in_at ELSE accounts.last_sign_in_at END
FROM import_accounts p
WHERE p.account_id = accounts.id AND p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.changed <> ''`

	accountsInsert = `
INSERT INTO accounts (id, email, kind, display_name, status, last_sign_in_at, learning_profile_id, created_at)
SELECT p.new_id, p.email, p.kind, p.display_name, p.status, p.last_sign_in_at, p.learning_profile_id, COALESCE(p.created_at, @now)
FROM import_accounts p
WHERE p.line BETWEEN @lo AND @hi AND p.refusal IS NULL AND p.account_id IS NULL`
)

// mergeAccountRecords merges a batch of staged account records.
func (s *Store) mergeAccountRecords(tx *gorm.DB, b batch) (counts, error) {
	steps := []string{accountsResolve}
	if b.keepExisting {
		steps = append(steps, keepSQL(stageAccounts, "account_id"))
	} else {
		steps = append(steps, accountsKind, accountsChanged, accountsUpdate)
	}
	if _, err := s.run(tx, b, append(steps, accountsInsert)...); err != nil {
		return counts{}, err
	}
	return s.batchCounts(tx, b, counts{}, stageAccounts, "account_id")
}

// batchCounts counts a merged batch's outcomes from its staged rows.
func (s *Store) batchCounts(tx *gorm.DB, b batch, c counts, t stageTable, existing string) (counts, error) {
	q := `SELECT
    COALESCE(SUM(CASE WHEN refusal IS NOT NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN refusal IS NULL AND EXISTING IS NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN refusal IS NULL AND changed <> '' THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN refusal IS NULL AND changed = '' THEN 1 ELSE 0 END), 0)
FROM STAGE WHERE line BETWEEN @lo AND @hi`
	q = strings.NewReplacer("STAGE", t.name, "EXISTING", existing).Replace(q)
	err := tx.Raw(q, map[string]any{"lo": b.lo, "hi": b.hi}).Row().Scan(&c.Refused, &c.Inserted, &c.Updated, &c.Unchanged)
	return c, err
}
