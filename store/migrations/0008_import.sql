-- Records from the systems of record (the integration API's PUTs and
-- `certdesk import`): the history of every profile they changed, the
-- source's "inactive", and the keys records are matched by.

-- A profile the source marks inactive keeps status active (merges and
-- connections read active|merged, and SQLite cannot change the status
-- CHECK without rebuilding the table, which needs its foreign keys off
-- outside any transaction); deactivated_at says since when the source has
-- it inactive.
ALTER TABLE certification_profiles ADD COLUMN deactivated_at {{.Time}};

-- One row per change a record made to a profile, written in the change's
-- transaction: the profile as it was before, and what changed (words:
-- legal_name email owner status certifications exams).
CREATE TABLE certification_profile_history (
    id               TEXT PRIMARY KEY,
    profile_id       TEXT NOT NULL REFERENCES certification_profiles (id),
    at               {{.Time}} NOT NULL,
    source           TEXT NOT NULL,
    changed          TEXT NOT NULL,
    legal_name       TEXT NOT NULL,
    email            TEXT NOT NULL,
    owner_account_id TEXT,
    status           TEXT NOT NULL,
    merged_into_id   TEXT,
    deactivated_at   {{.Time}}
);
CREATE INDEX certification_profile_history_profile ON certification_profile_history (profile_id, at);

-- Certifications are matched by (profile, code, earned_at), exams by
-- (profile, code, taken_at); these indexes serve the lookups by profile
-- the old ones did.
CREATE INDEX certifications_key ON certifications (profile_id, code, earned_at);
DROP INDEX certifications_profile;
CREATE INDEX transcript_entries_key ON transcript_entries (profile_id, exam_code, taken_at);
DROP INDEX transcript_entries_profile;
