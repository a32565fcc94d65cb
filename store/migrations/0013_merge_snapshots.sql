-- What each merge changed, so that it can be undone exactly: the rows it
-- touched (profiles, certifications, exams) as they were before it and as
-- it left them. An undo restores "before" only while every row is still
-- as "after" says; undone_by names the unmerge case once it did.
CREATE TABLE merge_snapshots (
    case_id    TEXT PRIMARY KEY REFERENCES cases (id),
    target_id  TEXT NOT NULL REFERENCES certification_profiles (id),
    merged_at  {{.Time}} NOT NULL,
    before_rows {{.JSON}} NOT NULL,
    after_rows  {{.JSON}} NOT NULL,
    undone_by  TEXT,
    undone_at  {{.Time}}
);
CREATE INDEX merge_snapshots_target ON merge_snapshots (target_id);

-- A case may be an unmerge (on SQLite, store/migrate.go's sqliteCheckEdits).
{{if .Postgres}}
ALTER TABLE cases DROP CONSTRAINT cases_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_kind_check CHECK (kind IN ('connect', 'merge', 'recovery', 'unmerge'));
{{end}}
