-- Integration tokens: the credentials of the systems of record (the
-- certification system, the learning site) for the integration API. A
-- table of their own, not access_tokens: an integration is never an agent
-- (access_tokens.agent_id is NOT NULL), and the hash is all that is kept.
-- scopes is a JSON array of scope names ("profiles:write", …).

CREATE TABLE integration_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL,
    expires_at   {{.Time}} NOT NULL,
    last_used_at {{.Time}},
    revoked_at   {{.Time}}
);
CREATE UNIQUE INDEX integration_tokens_hash ON integration_tokens (hash);
CREATE INDEX integration_tokens_name ON integration_tokens (name);
