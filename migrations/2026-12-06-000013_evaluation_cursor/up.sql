-- The evaluation's fill cursor becomes a keyset position: every fill of one order shares the
-- order's timestamp, so the id of the last fill read is stored beside its time, and the next
-- read starts after (last_fill_at, last_fill_id) instead of after the bare time.
--
-- A cursor stored before this migration meant "after every fill at last_fill_at"; the largest
-- uuid keeps exactly that meaning. Snapshots need no id: an account has at most one per instant
-- (prop_equity_snapshots is unique on (account_id, at)).

ALTER TABLE audition_run_evaluations ADD COLUMN last_fill_id uuid;
UPDATE audition_run_evaluations
    SET last_fill_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff'
    WHERE last_fill_at IS NOT NULL;
ALTER TABLE audition_run_evaluations
    ADD CONSTRAINT audition_run_evaluations_fill_cursor
    CHECK ((last_fill_at IS NULL) = (last_fill_id IS NULL));
