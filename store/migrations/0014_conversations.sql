-- Conversations: what learners write in (by email, through SendGrid's
-- Inbound Parse, or from the portal) and what agents answer, with the
-- evidence attached to them. A case's timeline says that a message came
-- (learner_message, agent_reply); the message itself is here.

CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id),
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author      TEXT NOT NULL,
    from_addr   TEXT NOT NULL DEFAULT '',
    to_addr     TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    -- held: from an address that is not one of the case's recipients; an
    -- agent reads it, nothing is done with it.
    held        BOOLEAN NOT NULL DEFAULT FALSE,
    -- why it is held (not the recipient, sender not authenticated, automatic).
    held_reason TEXT NOT NULL DEFAULT '',
    -- the email's Message-ID: SendGrid retries a post, a message is kept once.
    message_key TEXT,
    created_at  {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX messages_key ON messages (message_key);
CREATE INDEX messages_case ON messages (case_id, created_at);

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES messages (id),
    case_id      TEXT NOT NULL REFERENCES cases (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         {{if .Postgres}}BYTEA{{else}}BLOB{{end}},
    created_at   {{.Time}} NOT NULL,
    -- the content is removed (data NULL) once the case has been closed for
    -- the retention period; the row says it was there.
    purged_at    {{.Time}}
);
CREATE INDEX attachments_case ON attachments (case_id);

CREATE TABLE canned_responses (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX canned_responses_name ON canned_responses (name);

ALTER TABLE captured_mails ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';

-- A case may be an inquiry (on SQLite, store/migrate.go's sqliteCheckEdits).
{{if .Postgres}}
ALTER TABLE cases DROP CONSTRAINT cases_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_kind_check CHECK (kind IN ('connect', 'merge', 'recovery', 'unmerge', 'inquiry'));
{{end}}
