-- Named event counts a worker reports beside its items (a mirror's decisions by outcome, its
-- market-stream wake-ups, its failed polls): running totals per worker and event, shown with
-- the worker's heartbeat.
CREATE TABLE worker_event_totals (
    worker_name         text NOT NULL CHECK (worker_name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    event               text NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]{0,62}$'),
    total               bigint NOT NULL CHECK (total >= 0),
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (worker_name, event)
);
