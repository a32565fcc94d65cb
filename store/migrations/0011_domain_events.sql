-- Domain events (the outbox) and their delivery to webhook subscribers.
--
-- A domain change writes its event in the change's own transaction, with one
-- delivery row per active subscriber that takes the type: a rolled-back
-- change has neither, and dedupe_key makes a retried step write nothing the
-- second time. seq is the order events were written in; a subscriber gets
-- the events of one order_key (a certification profile, an account, a case)
-- in seq order.

CREATE TABLE domain_events (
    seq        {{if .Postgres}}BIGSERIAL{{else}}INTEGER{{end}} PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at {{.Time}} NOT NULL,
    order_key  TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    data       {{.JSON}} NOT NULL
);
CREATE UNIQUE INDEX domain_events_id ON domain_events (id);
CREATE UNIQUE INDEX domain_events_dedupe ON domain_events (dedupe_key);
CREATE INDEX domain_events_created ON domain_events (created_at);

-- events is a JSON array of patterns ("certification_profile.*");
-- secrets a JSON array of {"secret","expires_at"}: the newest first, an
-- older one kept for a while after a rotation so receivers can switch.
CREATE TABLE webhook_subscribers (
    id                   TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,
    secrets              TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason      TEXT NOT NULL DEFAULT '',
    created_at           {{.Time}} NOT NULL,
    updated_at           {{.Time}} NOT NULL,
    last_success_at      {{.Time}},
    last_failure_at      {{.Time}},
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);

-- One row per (subscriber, event): pending until a 2xx (delivered), until
-- the retries run out (failed), or the subscriber is disabled (pending
-- stays, nothing takes it).
CREATE TABLE webhook_deliveries (
    subscriber_id   TEXT NOT NULL REFERENCES webhook_subscribers (id),
    event_seq       BIGINT NOT NULL REFERENCES domain_events (seq),
    order_key       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      {{.Time}} NOT NULL,
    next_attempt_at {{.Time}} NOT NULL,
    delivered_at    {{.Time}},
    PRIMARY KEY (subscriber_id, event_seq)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscriber_id, event_seq) WHERE status = 'pending';

-- Every attempt: what the receiver answered (status 0: no answer), how
-- long it took, the start of its body or the error.
CREATE TABLE webhook_attempts (
    id            TEXT PRIMARY KEY,
    subscriber_id TEXT NOT NULL REFERENCES webhook_subscribers (id),
    event_seq     BIGINT NOT NULL REFERENCES domain_events (seq),
    attempt       INTEGER NOT NULL,
    at            {{.Time}} NOT NULL,
    status_code   INTEGER NOT NULL,
    latency_ms    INTEGER NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    response      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_seq, subscriber_id, at);

-- Dev mode's built-in receiver keeps what it received: headers, body, and
-- whether the signature checked out.
CREATE TABLE dev_webhook_receipts (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    received_at {{.Time}} NOT NULL,
    headers     TEXT NOT NULL,
    body        TEXT NOT NULL,
    verified    BOOLEAN NOT NULL,
    problem     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dev_webhook_receipts_event ON dev_webhook_receipts (event_id, received_at);
