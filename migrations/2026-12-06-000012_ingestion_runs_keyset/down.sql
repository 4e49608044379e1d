DROP INDEX ingestion_runs_recent_idx;
CREATE INDEX ingestion_runs_recent_idx ON ingestion_runs (started_at DESC);
