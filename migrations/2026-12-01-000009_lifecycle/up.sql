-- Lifecycle: audition rule sets, audition runs with their incremental evaluation state, the
-- append-only audition event trail, refund authorizations, the Promotion Queue and Arena
-- memberships.
--
-- Money is NUMERIC(28, 10); percentages are NUMERIC(9, 4). Purchase amounts are copied as the
-- decimal text in token base units that economy stores. Idempotency lives in unique
-- constraints: one run per (purchase, attempt), at most one running run per clone, one refund
-- authorization per purchase, one queue entry per passed run, at most one active Arena
-- membership per clone.

-- Rule sets are data owned by migrations: the application role may read them only.
CREATE TABLE audition_rule_sets (
    code                    text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    quote_currency          text NOT NULL CHECK (quote_currency ~ '^[A-Z]{2,10}$'),
    starting_balance        numeric(28, 10) NOT NULL CHECK (starting_balance > 0 AND starting_balance <= 1000000000000),
    -- No target: the audition passes when its window ends without a breach (and with its
    -- minimum trading days).
    profit_target_pct       numeric(9, 4) CHECK (profit_target_pct > 0 AND profit_target_pct <= 1000),
    max_daily_loss_pct      numeric(9, 4) NOT NULL CHECK (max_daily_loss_pct > 0 AND max_daily_loss_pct <= 100),
    daily_loss_basis        text NOT NULL CHECK (daily_loss_basis IN ('balance', 'equity')),
    max_drawdown_pct        numeric(9, 4) NOT NULL CHECK (max_drawdown_pct > 0 AND max_drawdown_pct <= 100),
    drawdown_basis          text NOT NULL CHECK (drawdown_basis IN ('balance', 'equity')),
    drawdown_mode           text NOT NULL CHECK (drawdown_mode IN ('static', 'trailing')),
    -- Trading days start at this local time of day in this IANA time zone.
    daily_reset_time        time NOT NULL,
    time_zone               text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    min_trading_days        integer NOT NULL CHECK (min_trading_days BETWEEN 0 AND 365),
    max_window_minutes      integer NOT NULL CHECK (max_window_minutes BETWEEN 1 AND 525600),
    free_retries            integer NOT NULL CHECK (free_retries BETWEEN 0 AND 100),
    -- The failure rules after which a free retry is allowed.
    retry_on                text[] NOT NULL,
    active                  boolean NOT NULL,
    CHECK (retry_on <@ ARRAY['max_daily_loss', 'max_total_drawdown', 'window_expired', 'min_trading_days_not_met']::text[])
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audition_rule_sets FROM clones_app;

INSERT INTO audition_rule_sets (code, quote_currency, starting_balance, profit_target_pct,
        max_daily_loss_pct, daily_loss_basis, max_drawdown_pct, drawdown_basis, drawdown_mode,
        daily_reset_time, time_zone, min_trading_days, max_window_minutes, free_retries, retry_on,
        active)
VALUES
    ('standard', 'USDC', 100000, 10, 5, 'balance', 10, 'equity', 'static',
        '17:00', 'America/New_York', 4, 43200, 1,
        ARRAY['max_daily_loss', 'max_total_drawdown', 'window_expired', 'min_trading_days_not_met'],
        true),
    ('trailing', 'USDC', 50000, 8, 4, 'equity', 6, 'equity', 'trailing',
        '00:00', 'UTC', 3, 30240, 0,
        ARRAY['window_expired', 'min_trading_days_not_met'],
        true),
    -- A few minutes without a profit target, so a demonstration runs end to end while one
    -- watches: it passes when the window ends without a breach after at least one fill.
    ('demo', 'USDC', 100000, NULL, 5, 'equity', 10, 'equity', 'static',
        '00:00', 'UTC', 1, 3, 1,
        ARRAY['max_daily_loss', 'max_total_drawdown', 'window_expired', 'min_trading_days_not_met'],
        true);

CREATE TABLE audition_runs (
    id                      uuid PRIMARY KEY,
    clone_id                uuid NOT NULL REFERENCES clones (id),
    owner_user_id           uuid NOT NULL REFERENCES users (id),
    -- The economy purchase (purpose audition_fee) that paid for the audition; retries reuse it.
    purchase_id             uuid NOT NULL REFERENCES economy_purchases (id),
    attempt                 integer NOT NULL CHECK (attempt BETWEEN 1 AND 101),
    rule_set_code           text NOT NULL REFERENCES audition_rule_sets (code),
    -- The rules as they were at the start, so later rule-set edits never change a run.
    rules                   jsonb NOT NULL,
    prop_account_id         uuid NOT NULL UNIQUE REFERENCES prop_accounts (id),
    window_start            timestamptz NOT NULL,
    window_end              timestamptz NOT NULL,
    status                  text NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'voided')),
    failure_rule            text CHECK (failure_rule IN ('max_daily_loss', 'max_total_drawdown', 'window_expired', 'min_trading_days_not_met')),
    failure_detail          text CHECK (length(failure_detail) <= 500),
    ended_at                timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    UNIQUE (purchase_id, attempt),
    CHECK (window_end > window_start),
    -- A voided run keeps the rule that had failed it, if any.
    CHECK (status <> 'failed' OR failure_rule IS NOT NULL),
    CHECK (status IN ('failed', 'voided') OR failure_rule IS NULL),
    CHECK ((status = 'running') = (ended_at IS NULL))
);
CREATE UNIQUE INDEX audition_runs_one_running_per_clone ON audition_runs (clone_id) WHERE status = 'running';
CREATE INDEX audition_runs_clone_idx ON audition_runs (clone_id, created_at);

-- The incremental evaluation state of a run (see docs/modules/lifecycle.md) and the worker's
-- lease on it. One row per run, inserted with the run.
CREATE TABLE audition_run_evaluations (
    run_id                  uuid PRIMARY KEY REFERENCES audition_runs (id),
    owner_user_id           uuid NOT NULL REFERENCES users (id),
    last_snapshot_at        timestamptz,
    last_fill_at            timestamptz,
    trading_day             date,
    day_start_value         numeric(28, 10) NOT NULL,
    peak_value              numeric(28, 10) NOT NULL,
    last_fill_day           date,
    trading_days            integer NOT NULL CHECK (trading_days >= 0),
    latest_equity           numeric(28, 10) NOT NULL,
    latest_cash             numeric(28, 10) NOT NULL,
    evaluated_at            timestamptz,
    lease_expires_at        timestamptz,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX audition_run_evaluations_due_idx ON audition_run_evaluations (evaluated_at NULLS FIRST);

CREATE TABLE audition_run_events (
    id              uuid PRIMARY KEY,
    -- Orders events written at the same instant (a void and a refund in one transaction).
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    run_id          uuid NOT NULL REFERENCES audition_runs (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL CHECK (kind IN ('started', 'passed', 'failed', 'retried', 'voided', 'refund_authorized')),
    -- The user (owner or admin) who acted; NULL when the worker did.
    actor_user_id   uuid REFERENCES users (id),
    actor           text NOT NULL CHECK (actor IN ('owner', 'admin', 'worker')),
    reason          text CHECK (length(reason) <= 500),
    details         jsonb NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX audition_run_events_run_idx ON audition_run_events (run_id, seq);
SELECT make_append_only('audition_run_events');

CREATE TABLE audition_refund_authorizations (
    id              uuid PRIMARY KEY,
    purchase_id     uuid NOT NULL UNIQUE REFERENCES economy_purchases (id),
    run_id          uuid NOT NULL REFERENCES audition_runs (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    -- Copied from the purchase: base units of the token, as decimal text.
    amount          text NOT NULL CHECK (amount ~ '^[0-9]{1,78}$'),
    token_address   text NOT NULL,
    chain_id        bigint NOT NULL,
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    authorized_by   uuid NOT NULL REFERENCES users (id),
    status          text NOT NULL CHECK (status IN ('authorized')),
    created_at      timestamptz NOT NULL
);
CREATE INDEX audition_refund_authorizations_created_idx ON audition_refund_authorizations (created_at);

CREATE TABLE promotion_queue_entries (
    id                  uuid PRIMARY KEY,
    run_id              uuid NOT NULL UNIQUE REFERENCES audition_runs (id),
    clone_id            uuid NOT NULL REFERENCES clones (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    status              text NOT NULL CHECK (status IN ('queued', 'admitted', 'withdrawn')),
    last_skip_reason    text CHECK (last_skip_reason IN ('profile_missing', 'clone_retired', 'already_member')),
    last_attempt_at     timestamptz,
    admitted_at         timestamptz,
    -- Held by the admission worker while it works on the entry.
    lease_expires_at    timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK ((status = 'admitted') = (admitted_at IS NOT NULL))
);
CREATE INDEX promotion_queue_entries_clone_idx ON promotion_queue_entries (clone_id, created_at);
CREATE INDEX promotion_queue_entries_queued_idx ON promotion_queue_entries (last_attempt_at NULLS FIRST) WHERE status = 'queued';

CREATE TABLE arena_clone_memberships (
    id                  uuid PRIMARY KEY,
    clone_id            uuid NOT NULL REFERENCES clones (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    entry_id            uuid NOT NULL UNIQUE REFERENCES promotion_queue_entries (id),
    prop_account_id     uuid NOT NULL UNIQUE REFERENCES prop_accounts (id),
    status              text NOT NULL CHECK (status IN ('active', 'retired')),
    joined_at           timestamptz NOT NULL,
    retired_at          timestamptz,
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
CREATE UNIQUE INDEX arena_clone_memberships_one_active_per_clone ON arena_clone_memberships (clone_id) WHERE status = 'active';

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['audition_runs', 'audition_run_evaluations', 'audition_run_events', 'audition_refund_authorizations',
            'promotion_queue_entries', 'arena_clone_memberships'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
