-- The supervisor dashboard at a million cases (store/stats.go): each figure
-- reads one index range, and on PostgreSQL mostly the index alone.

-- Opened per day and escalations of the window: a range of created_at.
CREATE INDEX cases_created_stats ON cases (created_at, kind, escalated);
-- Closed per day, time to resolution and SLA attainment: a range of closed_at.
CREATE INDEX cases_closed_stats ON cases (closed_at, kind, created_at, sla_due_at);
-- Open cases by kind and status, and those past their SLA.
CREATE INDEX cases_status_kind ON cases (status, kind, escalated, sla_due_at);
-- The security-review queue, a few cases among a million.
CREATE INDEX cases_security_review ON cases (created_at, id) WHERE security_review;
