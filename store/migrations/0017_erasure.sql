-- A person's own keys (codec/subject.go). Each seals the Temporal payloads
-- of the cases about one address, and is kept sealed by a payload key
-- (wrap_key_id). Erasing the person destroys it: sealed becomes NULL and
-- the address goes; the payloads stay in the histories, unreadable.
CREATE TABLE subject_keys (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    sealed      {{if .Postgres}}BYTEA{{else}}BLOB{{end}},
    wrap_key_id TEXT NOT NULL,
    created_at  {{.Time}} NOT NULL,
    erased_at   {{.Time}}
);
-- One live key per address.
CREATE UNIQUE INDEX subject_keys_live ON subject_keys (email) WHERE erased_at IS NULL;

-- Erasures of a person, asked for by one supervisor and carried out when
-- another approves (four eyes), or at once by an operator's command. Once
-- done, the address is gone from the row too: what stays is that an
-- erasure happened, why, who asked and approved, and how much it reached.
CREATE TABLE erasures (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at {{.Time}} NOT NULL,
    approved_by  TEXT NOT NULL DEFAULT '',
    done_at      {{.Time}},
    withdrawn_at {{.Time}},
    result       {{.JSON}}
);
CREATE INDEX erasures_pending ON erasures (requested_at) WHERE done_at IS NULL AND withdrawn_at IS NULL;
