-- The sweep pages through active accounts by last activity, then id: an
-- index on that order makes each page a range read, however many accounts
-- are unused (without it every page read the whole table, and a first run
-- over millions of unused accounts read it once per page).
{{if .Postgres}}
CREATE INDEX accounts_active_by_last_active ON accounts ((GREATEST(last_sign_in_at, reactivated_at, created_at)), id) WHERE status = 'active';
{{else}}
CREATE INDEX accounts_active_by_last_active ON accounts ((MAX(COALESCE(last_sign_in_at, created_at), COALESCE(reactivated_at, created_at))), id) WHERE status = 'active';
{{end}}
