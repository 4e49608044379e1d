-- A clone's auditions are listed in pages by (created_at, id), newest first: the id that breaks
-- ties between runs created at one instant joins the list's index, as for every keyset list.

DROP INDEX audition_runs_clone_idx;
CREATE INDEX audition_runs_clone_idx ON audition_runs (clone_id, created_at, id);
