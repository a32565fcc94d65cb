-- Rate limits count sliding windows: a bucket keeps the count of its
-- previous window too, weighted by how much of it still lies within the
-- last window's length.

ALTER TABLE rate_limits ADD COLUMN prev_hits INTEGER NOT NULL DEFAULT 0;
