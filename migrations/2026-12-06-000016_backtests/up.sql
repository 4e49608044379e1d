-- Backtests: the job queue, each finished job's metrics, the daily usage a tier's policy is
-- checked against, and the artifacts (series, trade lists, chart) a job produced.
--
-- A job is a queue row: `queued` until a worker leases it (FOR UPDATE SKIP LOCKED), `running`
-- while the lease holds, then `succeeded`, `failed` or `cancelled`. `attempts` counts leases and
-- is the fencing token: a worker writes progress and results only while the row still carries
-- the attempt it leased, so a worker whose lease expired and was taken over cannot overwrite
-- the newer attempt. Every table carries owner_user_id for row-level security.

CREATE TABLE backtest_jobs (
    id                  uuid PRIMARY KEY,
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    clone_id            uuid NOT NULL REFERENCES clones (id),
    kind                text NOT NULL CHECK (kind IN ('backtest', 'paper_consistency')),
    status              text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- What to run, frozen at creation: the strategy graph and its fingerprint and version, the
    -- instruments, the range, the engine settings and walk-forward folds, and for a
    -- consistency job the paper account. A later draft edit never changes a queued job.
    spec                jsonb NOT NULL,
    bars_total          bigint NOT NULL CHECK (bars_total >= 0),
    bars_done           bigint NOT NULL DEFAULT 0 CHECK (bars_done >= 0),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When the current attempt started and until when its lease holds.
    leased_at           timestamptz,
    lease_expires_at    timestamptz,
    cancel_requested    boolean NOT NULL DEFAULT false,
    error_code          text CHECK (length(error_code) BETWEEN 1 AND 64),
    error_detail        text CHECK (length(error_detail) <= 2000),
    created_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    CHECK ((status = 'running') = (lease_expires_at IS NOT NULL)),
    CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CHECK ((status = 'failed') = (error_code IS NOT NULL))
);
CREATE INDEX backtest_jobs_clone_idx ON backtest_jobs (clone_id, created_at DESC, id DESC);
-- The queue: oldest queued first; running rows by lease expiry for the requeue sweep.
CREATE INDEX backtest_jobs_queued_idx ON backtest_jobs (created_at, id) WHERE status = 'queued';
CREATE INDEX backtest_jobs_running_idx ON backtest_jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX backtest_jobs_owner_open_idx ON backtest_jobs (owner_user_id)
    WHERE status IN ('queued', 'running');

CREATE TABLE backtest_job_metrics (
    job_id              uuid PRIMARY KEY REFERENCES backtest_jobs (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    -- SHA-256 (hex) of the report: the same strategy, data and settings give the same hash.
    result_hash         text NOT NULL CHECK (result_hash ~ '^[0-9a-f]{64}$'),
    final_equity        numeric(28, 10) NOT NULL,
    total_return_pct    double precision NOT NULL,
    max_drawdown_pct    double precision NOT NULL,
    sharpe              double precision NOT NULL,
    trades              integer NOT NULL CHECK (trades >= 0),
    -- Every metric of the module page, the walk-forward folds, and the paper-consistency
    -- comparison, as the views serialize them.
    metrics             jsonb NOT NULL,
    walk_forward        jsonb,
    consistency         jsonb,
    -- The paper-consistency score in [0, 1]: a column so lifecycle can gate on it.
    consistency_score   double precision CHECK (consistency_score BETWEEN 0 AND 1),
    computed_at         timestamptz NOT NULL
);
SELECT make_append_only('backtest_job_metrics');

CREATE TABLE backtest_usage_days (
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    clone_id            uuid NOT NULL REFERENCES clones (id),
    day                 date NOT NULL,
    jobs                integer NOT NULL CHECK (jobs >= 0),
    bars                bigint NOT NULL CHECK (bars >= 0),
    PRIMARY KEY (owner_user_id, clone_id, day)
);

CREATE TABLE backtest_artifacts (
    job_id              uuid NOT NULL REFERENCES backtest_jobs (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    kind                text NOT NULL CHECK (kind IN ('equity', 'drawdown', 'trades_json', 'trades_csv', 'chart_svg')),
    content_type        text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 100),
    body                bytea NOT NULL,
    created_at          timestamptz NOT NULL,
    PRIMARY KEY (job_id, kind)
);
-- The retention sweep deletes by age.
CREATE INDEX backtest_artifacts_created_idx ON backtest_artifacts (created_at);

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['backtest_jobs', 'backtest_job_metrics', 'backtest_usage_days',
            'backtest_artifacts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
