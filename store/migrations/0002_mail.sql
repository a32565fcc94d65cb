-- Email and links: the run a case's workflow is (so a link signals that run
-- and not a later case that reuses the workflow id), SendGrid's webhook
-- events (for deduplication) and dev mode's captured mailbox.

ALTER TABLE cases ADD COLUMN run_id TEXT NOT NULL DEFAULT '';

CREATE TABLE webhook_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at {{.Time}} NOT NULL
);

CREATE TABLE captured_mails (
    id         TEXT PRIMARY KEY,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    step       TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    links      {{.JSON}} NOT NULL,
    created_at {{.Time}} NOT NULL
);
CREATE INDEX captured_mails_to ON captured_mails (to_addr);
CREATE INDEX captured_mails_case ON captured_mails (case_id);
