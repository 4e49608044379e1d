DROP INDEX audition_runs_clone_idx;
CREATE INDEX audition_runs_clone_idx ON audition_runs (clone_id, created_at);
