-- Recovery and the inactivity sweep: when a completed recovery made an
-- account active again (it restarts the two years), the notices the sweep
-- owes accounts, and the rate limits every api process shares.

ALTER TABLE accounts ADD COLUMN reactivated_at {{.Time}};

-- The inactivity sweep's outbox. A notice is about one period of
-- inactivity, named by the account's last activity (period_at): the primary
-- key holds "one reminder per period" even when the sweep runs daily. The
-- sweep queues a notice in the transaction that decides it (and, for
-- account_inactive, makes the account inactive), then sends the pending
-- ones; done_at is set once the email was handed over or refused for good.
CREATE TABLE account_notices (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('inactivity_reminder', 'account_inactive')),
    period_at   {{.Time}} NOT NULL,
    to_addr     TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    inactive_on {{.Time}} NOT NULL,
    created_at  {{.Time}} NOT NULL,
    done_at     {{.Time}},
    PRIMARY KEY (account_id, kind, period_at)
);
CREATE INDEX account_notices_pending ON account_notices (created_at) WHERE done_at IS NULL;

-- Fixed-window request counters, one row per key (a limit and who it
-- counts, hashed): the window restarts in place, and the daily sweep
-- removes rows whose window has long ended.
CREATE TABLE rate_limits (
    bucket       TEXT PRIMARY KEY,
    window_start {{.Time}} NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
