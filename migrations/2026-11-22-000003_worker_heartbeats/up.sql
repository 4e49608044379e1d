-- One row per worker: what its latest cycle did, with running totals.
CREATE TABLE worker_heartbeats (
    worker_name         text PRIMARY KEY CHECK (worker_name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    instance_id         text NOT NULL,
    status              text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    interval_ms         bigint NOT NULL CHECK (interval_ms > 0),
    last_started_at     timestamptz NOT NULL,
    last_completed_at   timestamptz,
    last_succeeded_at   timestamptz,
    last_error_at       timestamptz,
    last_error          text,
    last_latency_ms     bigint,
    last_items          bigint,
    cycles_total        bigint NOT NULL DEFAULT 0,
    failures_total      bigint NOT NULL DEFAULT 0,
    items_total         bigint NOT NULL DEFAULT 0,
    consecutive_errors  integer NOT NULL DEFAULT 0
);
