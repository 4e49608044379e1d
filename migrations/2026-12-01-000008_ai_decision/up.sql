-- AI decision: decision runs, the actions they propose, what prop-engine answered for each
-- action, and the model artifacts (input packet, raw output, usage) behind each run.
--
-- Every table is append-only: a run with its actions and artifact is written once, complete,
-- in one transaction; an execution row is written once after prop-engine answers. Sizes,
-- prices and costs are NUMERIC(28, 10). Every table carries owner_user_id for row-level
-- security.

CREATE TABLE decision_runs (
    id                  uuid PRIMARY KEY,
    clone_id            uuid NOT NULL,
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    -- The prop account the actions go to; NULL exactly for dry runs.
    account_id          uuid,
    context             text NOT NULL CHECK (context IN ('audition', 'arena', 'dry_run')),
    -- The audition run or arena membership this decision serves (owned by lifecycle; no FK).
    reference_id        uuid,
    -- The decision moment: now truncated to the worker interval. A repeated or concurrent
    -- delivery of the same cycle finds the first run through UNIQUE (account_id, slot).
    slot                timestamptz NOT NULL,
    strategy_version    integer CHECK (strategy_version > 0),
    strategy_fingerprint text CHECK (strategy_fingerprint ~ '^[0-9a-f]{64}$'),
    model               text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    adapter             text NOT NULL CHECK (adapter IN ('rule', 'openai')),
    status              text NOT NULL CHECK (status IN ('decided', 'idle', 'skipped', 'invalid_output', 'model_error')),
    reason_code         text CHECK (length(reason_code) BETWEEN 1 AND 64),
    reason_detail       text CHECK (length(reason_detail) <= 2000),
    started_at          timestamptz NOT NULL,
    -- Wall time from the start of deciding to the run's write (model retries included). The
    -- table stays at 16 columns, diesel's default table width.
    latency_ms          bigint NOT NULL CHECK (latency_ms >= 0),
    UNIQUE (account_id, slot),
    CHECK ((context = 'dry_run') = (account_id IS NULL)),
    CHECK ((status IN ('skipped', 'invalid_output', 'model_error')) = (reason_code IS NOT NULL))
);
CREATE INDEX decision_runs_clone_idx ON decision_runs (clone_id, started_at DESC, id DESC);
SELECT make_append_only('decision_runs');

CREATE TABLE decision_actions (
    -- `<run id>:<seq>`: the idempotency key prop-engine executes at most once per account.
    id                  text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    run_id              uuid NOT NULL REFERENCES decision_runs (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    seq                 integer NOT NULL CHECK (seq >= 0),
    asset               text NOT NULL CHECK (length(asset) BETWEEN 1 AND 64),
    instrument          text NOT NULL CHECK (length(instrument) BETWEEN 5 AND 160),
    kind                text NOT NULL CHECK (kind IN ('open_long', 'open_short', 'close', 'target_position')),
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    size                numeric(28, 10) NOT NULL CHECK (size > 0),
    reduce_only         boolean NOT NULL,
    -- What the strategy or model asked for ({"percent_equity": "10"}, {"notional": "…"}, or
    -- null for close), before it was converted to a size at the reference price.
    requested_size      jsonb,
    reference_price     numeric(28, 10) NOT NULL CHECK (reference_price > 0),
    risk                jsonb NOT NULL,
    -- The strategy node or model task that proposed it.
    source              text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    rationale           text CHECK (length(rationale) <= 2000),
    UNIQUE (run_id, seq)
);
SELECT make_append_only('decision_actions');

CREATE TABLE decision_action_executions (
    id                  uuid PRIMARY KEY,
    action_id           text NOT NULL UNIQUE REFERENCES decision_actions (id),
    run_id              uuid NOT NULL REFERENCES decision_runs (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    account_id          uuid NOT NULL,
    prop_order_id       uuid NOT NULL,
    order_status        text NOT NULL CHECK (order_status IN ('filled', 'partially_filled', 'unfilled', 'rejected')),
    rejection_code      text,
    filled_size         numeric(28, 10) NOT NULL CHECK (filled_size >= 0),
    executed_at         timestamptz NOT NULL
);
CREATE INDEX decision_action_executions_run_idx ON decision_action_executions (run_id);
SELECT make_append_only('decision_action_executions');

CREATE TABLE decision_artifacts (
    run_id              uuid PRIMARY KEY REFERENCES decision_runs (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    model               text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    -- SHA-256 (hex) of the exact prompt (or, for the rule model, of the input packet).
    prompt_hash         text NOT NULL CHECK (prompt_hash ~ '^[0-9a-f]{64}$'),
    input_packet        jsonb NOT NULL,
    raw_output          text,
    latency_ms          bigint NOT NULL CHECK (latency_ms >= 0),
    prompt_tokens       integer CHECK (prompt_tokens >= 0),
    completion_tokens   integer CHECK (completion_tokens >= 0),
    cost                numeric(28, 10) CHECK (cost >= 0),
    created_at          timestamptz NOT NULL
);
SELECT make_append_only('decision_artifacts');

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['decision_runs', 'decision_actions', 'decision_action_executions',
            'decision_artifacts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
