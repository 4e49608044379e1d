-- The ingestion runs list is read in (started_at, id) keyset order, so its index ends in the id
-- that breaks ties between runs sharing a start.

DROP INDEX ingestion_runs_recent_idx;
CREATE INDEX ingestion_runs_recent_idx ON ingestion_runs (started_at, id);
