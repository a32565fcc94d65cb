-- The open cases by kind and status, counted by each daily sweep
-- (store/stats.go): the dashboard's "open cases by status over time",
-- which the cases alone cannot tell (a case keeps only its status now).
-- One row per day, kind and status; a sweep run again replaces its day.
CREATE TABLE open_case_counts (
    day    TEXT NOT NULL,
    kind   TEXT NOT NULL,
    status TEXT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (day, kind, status)
);
