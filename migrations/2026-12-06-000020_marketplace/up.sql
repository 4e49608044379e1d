-- The strategy marketplace: uploaded, shipped and evolved strategies in the project's strategy
-- format, their status pipeline with its history, their lineage, and their evaluations on the
-- reference data.

CREATE TABLE user_strategies (
    id                  uuid PRIMARY KEY,
    -- The original uploader: set once, never changed, and inherited by every mutation child.
    -- NULL for the strategies the project ships (they earn no royalty).
    uploader_user_id    uuid REFERENCES users (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description         text NOT NULL CHECK (length(description) <= 2000),
    graph               jsonb NOT NULL,
    -- The strategy crate's canonical fingerprint (hex): the same strategy, whatever its ids.
    fingerprint         text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    asset_type          text NOT NULL CHECK (asset_type IN ('perp', 'spot', 'outcome', 'mixed')),
    status              text NOT NULL CHECK (status IN ('pending_review', 'duplicate', 'rejected',
                            'experiment', 'candidate', 'proposable', 'discarded')),
    score               double precision,
    robustness          double precision CHECK (robustness BETWEEN 0 AND 1),
    generation          integer NOT NULL CHECK (generation >= 0),
    origin              text NOT NULL CHECK (origin IN ('upload', 'seed', 'mutation')),
    -- For a duplicate: the strategy it duplicates.
    duplicate_of        uuid REFERENCES user_strategies (id),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX user_strategies_status_idx ON user_strategies (status, score DESC NULLS LAST, id);
CREATE INDEX user_strategies_fingerprint_idx ON user_strategies (fingerprint);
CREATE INDEX user_strategies_uploader_idx ON user_strategies (uploader_user_id, created_at);
-- The uploader never changes.
CREATE FUNCTION reject_uploader_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.uploader_user_id IS DISTINCT FROM OLD.uploader_user_id THEN
        RAISE EXCEPTION 'the original uploader of a strategy never changes';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER user_strategies_uploader_fixed BEFORE UPDATE ON user_strategies
    FOR EACH ROW EXECUTE FUNCTION reject_uploader_change();

-- Every status change, with who or what made it and why.
CREATE TABLE strategy_status_history (
    id                  uuid PRIMARY KEY,
    strategy_id         uuid NOT NULL REFERENCES user_strategies (id),
    from_status         text,
    to_status           text NOT NULL,
    event               text NOT NULL CHECK (event IN ('upload', 'seed', 'mutation', 'duplicate',
                            'reject', 'pass', 'promote', 'discard', 'reinstate')),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    -- The administrator, for a review; NULL for a cycle.
    actor_user_id       uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL
);
CREATE INDEX strategy_status_history_strategy_idx ON strategy_status_history (strategy_id, created_at, id);
SELECT make_append_only('strategy_status_history');

-- Parent and child: one row per child.
CREATE TABLE strategy_lineage (
    id                  uuid PRIMARY KEY,
    parent_id           uuid NOT NULL REFERENCES user_strategies (id),
    child_id            uuid NOT NULL UNIQUE REFERENCES user_strategies (id),
    mutation_type       text NOT NULL CHECK (mutation_type IN ('parameter_perturbation',
                            'indicator_swap', 'threshold_shift', 'add_condition',
                            'remove_condition', 'fork')),
    mutation_detail     text NOT NULL CHECK (length(mutation_detail) BETWEEN 1 AND 500),
    generation          integer NOT NULL CHECK (generation >= 1),
    royalty_percent_parent numeric(5, 2) NOT NULL CHECK (royalty_percent_parent BETWEEN 0 AND 100),
    royalty_percent_child  numeric(5, 2) NOT NULL CHECK (royalty_percent_child BETWEEN 0 AND 100),
    created_at          timestamptz NOT NULL,
    CHECK (royalty_percent_parent + royalty_percent_child = 100),
    CHECK (parent_id <> child_id)
);
CREATE INDEX strategy_lineage_parent_idx ON strategy_lineage (parent_id);
SELECT make_append_only('strategy_lineage');

-- The latest evaluation of each kind: the sanity backtest and the full one.
CREATE TABLE strategy_evaluations (
    strategy_id         uuid NOT NULL REFERENCES user_strategies (id),
    kind                text NOT NULL CHECK (kind IN ('sanity', 'full')),
    metrics             jsonb NOT NULL,
    -- Per-bar equity returns on the reference data: what behavioural duplicates compare.
    behaviour           double precision[] NOT NULL,
    result_hash         text NOT NULL,
    evaluated_at        timestamptz NOT NULL,
    PRIMARY KEY (strategy_id, kind)
);

-- Marketplace rows are public to signed-in users once they passed review; an uploader also
-- sees its own rows in every status. The cycles and administrators read and write through the
-- audited cross-tenant transaction.
ALTER TABLE user_strategies ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_strategies FORCE ROW LEVEL SECURITY;
CREATE POLICY user_strategies_read ON user_strategies FOR SELECT
    USING (status IN ('experiment', 'candidate', 'proposable')
        OR uploader_user_id = app_current_user_id() OR app_cross_tenant());
CREATE POLICY user_strategies_insert ON user_strategies FOR INSERT
    WITH CHECK (uploader_user_id = app_current_user_id() OR app_cross_tenant());
CREATE POLICY user_strategies_write ON user_strategies FOR UPDATE
    USING (app_cross_tenant()) WITH CHECK (app_cross_tenant());

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['strategy_status_history', 'strategy_lineage',
            'strategy_evaluations'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        -- Visible with the strategy it belongs to (the subquery applies user_strategies' policy).
        EXECUTE format(
            'CREATE POLICY %I ON %I FOR SELECT USING (app_cross_tenant() OR EXISTS '
            '(SELECT 1 FROM user_strategies s WHERE s.id = %I.%I))',
            owned || '_read', owned, owned,
            CASE owned WHEN 'strategy_lineage' THEN 'child_id' ELSE 'strategy_id' END);
        EXECUTE format(
            'CREATE POLICY %I ON %I FOR INSERT WITH CHECK (app_cross_tenant() OR EXISTS '
            '(SELECT 1 FROM user_strategies s WHERE s.id = %I.%I AND s.uploader_user_id = app_current_user_id()))',
            owned || '_insert', owned, owned,
            CASE owned WHEN 'strategy_lineage' THEN 'child_id' ELSE 'strategy_id' END);
        EXECUTE format(
            'CREATE POLICY %I ON %I FOR UPDATE USING (app_cross_tenant()) WITH CHECK (app_cross_tenant())',
            owned || '_write', owned);
    END LOOP;
END
$$;
