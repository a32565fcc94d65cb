-- The console's queue at a million cases: every view and filter pages
-- through an index in its own order (keyset), so the first page and a page a
-- million rows deep cost the same.

CREATE INDEX cases_status_id ON cases (status, id);
CREATE INDEX cases_kind_id ON cases (kind, id);
CREATE INDEX cases_assignee_id ON cases (assignee_id, id);
CREATE INDEX cases_escalated_id ON cases (escalated, id);
CREATE INDEX cases_sla ON cases (sla_due_at, id);
CREATE INDEX cases_status_sla ON cases (status, sla_due_at, id);
CREATE INDEX cases_learner_email ON cases (learner_email);
{{if .Postgres}}
-- Free-text search (learner name, email, MCIDs) by trigram on PostgreSQL.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_search_trgm ON cases USING gin ((lower(learner_name || ' ' || learner_email || ' ' || mcids)) gin_trgm_ops);
{{end}}
