-- The first schema. Written once for both databases: {{.Time}} and {{.JSON}}
-- are the dialect's timestamp and JSON types (see store/migrate.go).

CREATE TABLE learning_profiles (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL
);

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('personal', 'work')),
    display_name        TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    last_sign_in_at     {{.Time}},
    learning_profile_id TEXT REFERENCES learning_profiles (id),
    created_at          {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
CREATE INDEX accounts_learning_profile ON accounts (learning_profile_id);
CREATE INDEX accounts_last_sign_in ON accounts (last_sign_in_at);

CREATE TABLE certification_profiles (
    id                            TEXT PRIMARY KEY,
    mcid                          TEXT NOT NULL,
    legal_name                    TEXT NOT NULL,
    email                         TEXT NOT NULL,
    owner_account_id              TEXT REFERENCES accounts (id),
    status                        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged')),
    merged_into_id                TEXT REFERENCES certification_profiles (id),
    connected_learning_profile_id TEXT REFERENCES learning_profiles (id),
    connected_at                  {{.Time}},
    created_at                    {{.Time}} NOT NULL,
    updated_at                    {{.Time}} NOT NULL,
    CHECK (status <> 'merged' OR merged_into_id IS NOT NULL),
    CHECK (status <> 'merged' OR connected_learning_profile_id IS NULL),
    CHECK (merged_into_id IS NULL OR merged_into_id <> id)
);
-- The program's rules, held by the database as well as by the workflows:
-- an MCID names one profile, and a learning profile has at most one
-- connected certification profile (a profile, one learning profile: it has
-- one column for it).
CREATE UNIQUE INDEX certification_profiles_mcid ON certification_profiles (mcid);
CREATE UNIQUE INDEX certification_profiles_connected ON certification_profiles (connected_learning_profile_id)
    WHERE connected_learning_profile_id IS NOT NULL;
CREATE INDEX certification_profiles_owner ON certification_profiles (owner_account_id);
CREATE INDEX certification_profiles_email ON certification_profiles (email);

CREATE TABLE certifications (
    id              TEXT PRIMARY KEY,
    profile_id      TEXT NOT NULL REFERENCES certification_profiles (id),
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    earned_at       {{.Time}} NOT NULL,
    expires_at      {{.Time}},
    duplicate_of_id TEXT REFERENCES certifications (id),
    created_at      {{.Time}} NOT NULL
);
CREATE INDEX certifications_profile ON certifications (profile_id);

CREATE TABLE transcript_entries (
    id         TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES certification_profiles (id),
    exam_code  TEXT NOT NULL,
    exam_title TEXT NOT NULL,
    score      INTEGER NOT NULL,
    passed     BOOLEAN NOT NULL,
    taken_at   {{.Time}} NOT NULL,
    created_at {{.Time}} NOT NULL
);
CREATE INDEX transcript_entries_profile ON transcript_entries (profile_id);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    created_at {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX agents_email ON agents (email);

CREATE TABLE cases (
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('connect', 'merge', 'recovery')),
    status              TEXT NOT NULL,
    resolution          TEXT NOT NULL DEFAULT '',
    escalated           BOOLEAN NOT NULL DEFAULT FALSE,
    unreachable         BOOLEAN NOT NULL DEFAULT FALSE,
    security_review     BOOLEAN NOT NULL DEFAULT FALSE,
    subject             TEXT NOT NULL DEFAULT '',
    learner_name        TEXT NOT NULL DEFAULT '',
    learner_email       TEXT NOT NULL DEFAULT '',
    learning_profile_id TEXT REFERENCES learning_profiles (id),
    account_id          TEXT REFERENCES accounts (id),
    profile_ids         TEXT NOT NULL DEFAULT '',
    mcids              TEXT NOT NULL DEFAULT '',
    requester           TEXT NOT NULL,
    assignee_id         TEXT REFERENCES agents (id),
    parent_case_id      TEXT REFERENCES cases (id),
    sla_due_at          {{.Time}},
    workflow_id         TEXT NOT NULL,
    version             BIGINT NOT NULL DEFAULT 0,
    workflow_step       BIGINT NOT NULL DEFAULT 0,
    details             {{.JSON}} NOT NULL,
    created_at          {{.Time}} NOT NULL,
    updated_at          {{.Time}} NOT NULL,
    closed_at           {{.Time}}
);
CREATE INDEX cases_workflow ON cases (workflow_id);
CREATE INDEX cases_learning_profile ON cases (learning_profile_id);
CREATE INDEX cases_account ON cases (account_id);

-- The timeline: append-only, ordered per case by seq, which is the case's
-- version after the change the event records.
CREATE TABLE case_events (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq     BIGINT NOT NULL,
    at      {{.Time}} NOT NULL,
    actor   TEXT NOT NULL,
    type    TEXT NOT NULL,
    data    {{.JSON}} NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Email links: only the SHA-256 of a token is kept. One live token per
-- (case, step); issuing a new one supersedes the old.
CREATE TABLE link_tokens (
    id            TEXT PRIMARY KEY,
    hash          TEXT NOT NULL,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    step          TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    expires_at    {{.Time}} NOT NULL,
    used_at       {{.Time}},
    superseded_at {{.Time}},
    created_at    {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX link_tokens_hash ON link_tokens (hash);
CREATE UNIQUE INDEX link_tokens_live ON link_tokens (case_id, step)
    WHERE used_at IS NULL AND superseded_at IS NULL;

-- Every email certdesk sends: one per (case, step), recorded before sending.
-- Messages outside a case (the inactivity sweep) use a key of their own in
-- case_id, so the rule holds for them too.
CREATE TABLE emails (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL,
    step         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    to_addr      TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    provider_id  TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   {{.Time}} NOT NULL,
    updated_at   {{.Time}} NOT NULL,
    sent_at      {{.Time}},
    delivered_at {{.Time}}
);
CREATE UNIQUE INDEX emails_case_step ON emails (case_id, step);
