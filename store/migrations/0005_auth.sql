-- Sign-in: server-side sessions (so signing out ends them), agents'
-- personal access tokens (hash only), the OpenID Connect subject people are
-- matched by, and the audit log of agent actions and sign-ins.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    method      TEXT NOT NULL,
    client_addr TEXT NOT NULL DEFAULT '',
    created_at  {{.Time}} NOT NULL,
    expires_at  {{.Time}} NOT NULL,
    revoked_at  {{.Time}}
);
CREATE INDEX sessions_subject ON sessions (subject);

CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES agents (id),
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL,
    expires_at   {{.Time}} NOT NULL,
    last_used_at {{.Time}},
    revoked_at   {{.Time}}
);
CREATE UNIQUE INDEX access_tokens_hash ON access_tokens (hash);
CREATE INDEX access_tokens_agent ON access_tokens (agent_id);

ALTER TABLE accounts ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX accounts_oidc_subject ON accounts (oidc_subject) WHERE oidc_subject IS NOT NULL;
ALTER TABLE agents ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX agents_oidc_subject ON agents (oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          {{.Time}} NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    case_id     TEXT NOT NULL DEFAULT '',
    client_addr TEXT NOT NULL DEFAULT '',
    data        {{.JSON}} NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_case ON audit_log (case_id, at);
