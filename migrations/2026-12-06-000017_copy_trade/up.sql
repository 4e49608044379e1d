-- Copy trading: the wallets a tenant mirrors (targets, with their policy), the tenant's grant
-- (caps, kill switch, executor), the fills ledger (one row per observed fill per tenant,
-- written before any order is sent), the append-only decisions (exactly one per ledger row),
-- and the shared per-wallet poll cursors.
--
-- `target_id` is the UUIDv5 of the lower-cased wallet (the same for every tenant), never a
-- row's primary key. `idempotency_key` = keccak256(target_id ':' fill_id), 0x + 64 hex, is
-- unique per tenant and is the client order id the venue sees.

CREATE TABLE copy_trade_targets (
    id                  uuid PRIMARY KEY,
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    target_id           uuid NOT NULL,
    wallet              text NOT NULL CHECK (wallet ~ '^0x[0-9a-f]{40}$'),
    label               text CHECK (length(label) BETWEEN 1 AND 100),
    active              boolean NOT NULL,
    filter_percentile   smallint CHECK (filter_percentile BETWEEN 0 AND 99),
    max_usdc_per_trade  numeric(28, 10) NOT NULL CHECK (max_usdc_per_trade > 0),
    max_position_usdc   numeric(28, 10) CHECK (max_position_usdc > 0),
    -- {"mode": "proportional", "ratio": "0.1"} or {"mode": "fixed", "usdc": "5"}.
    sizing              jsonb NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    removed_at          timestamptz,
    CHECK (removed_at IS NULL OR NOT active)
);
-- One live row per tenant and wallet; a removed target may be added again.
CREATE UNIQUE INDEX copy_trade_targets_live_idx ON copy_trade_targets (owner_user_id, target_id)
    WHERE removed_at IS NULL;
CREATE INDEX copy_trade_targets_owner_idx ON copy_trade_targets (owner_user_id, created_at, id);
CREATE INDEX copy_trade_targets_active_idx ON copy_trade_targets (target_id) WHERE active;

CREATE TABLE copy_trade_grants (
    owner_user_id       uuid PRIMARY KEY REFERENCES users (id),
    per_order_usdc_cap  numeric(28, 10) NOT NULL CHECK (per_order_usdc_cap > 0),
    daily_usdc_cap      numeric(28, 10) NOT NULL CHECK (daily_usdc_cap > 0),
    hourly_fills_cap    integer NOT NULL CHECK (hourly_fills_cap > 0),
    -- On: every fill is recorded and skipped with `kill_switch`; nothing is sent.
    kill_switch         boolean NOT NULL,
    executor            text NOT NULL CHECK (executor IN ('paper', 'clob')),
    -- The tenant's copy-mirror paper account (prop-engine), for the paper executor.
    paper_account_id    uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE TABLE copy_trade_fills (
    id                  uuid PRIMARY KEY,
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    target_row_id       uuid NOT NULL REFERENCES copy_trade_targets (id),
    target_id           uuid NOT NULL,
    fill_id             text NOT NULL CHECK (length(fill_id) BETWEEN 1 AND 300),
    idempotency_key     text NOT NULL CHECK (idempotency_key ~ '^0x[0-9a-f]{64}$'),
    -- What the target did.
    fill                jsonb NOT NULL,
    -- What the mirror sends (set before the order is sent; NULL for a skipped fill).
    side                text CHECK (side IN ('BUY', 'SELL')),
    size                numeric(28, 10) CHECK (size > 0),
    limit_price         numeric(28, 10) CHECK (limit_price > 0 AND limit_price < 1),
    status              text NOT NULL CHECK (status IN ('pending', 'placed', 'filled', 'partially_filled',
                            'unfilled', 'canceled', 'rejected', 'skipped', 'error')),
    venue_order_id      text CHECK (length(venue_order_id) BETWEEN 1 AND 200),
    observed_at         timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- When the status was last confirmed by the venue (NULL: never).
    synced_at           timestamptz,
    UNIQUE (owner_user_id, idempotency_key)
);
CREATE INDEX copy_trade_fills_owner_idx ON copy_trade_fills (owner_user_id, observed_at, id);
CREATE INDEX copy_trade_fills_target_idx ON copy_trade_fills (target_row_id, observed_at);
CREATE INDEX copy_trade_fills_open_idx ON copy_trade_fills (updated_at) WHERE status IN ('pending', 'placed', 'partially_filled');

CREATE TABLE copy_trade_decisions (
    id                  uuid PRIMARY KEY,
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    ledger_id           uuid NOT NULL UNIQUE REFERENCES copy_trade_fills (id),
    idempotency_key     text NOT NULL CHECK (idempotency_key ~ '^0x[0-9a-f]{64}$'),
    outcome             text NOT NULL CHECK (outcome IN ('placed', 'skipped', 'error')),
    reason              text CHECK (length(reason) BETWEEN 1 AND 64),
    detail              text CHECK (length(detail) <= 2000),
    created_at          timestamptz NOT NULL,
    CHECK ((outcome = 'placed') = (reason IS NULL))
);
CREATE INDEX copy_trade_decisions_owner_idx ON copy_trade_decisions (owner_user_id, created_at, id);
SELECT make_append_only('copy_trade_decisions');

-- Per watched wallet, shared by every tenant that mirrors it: the worker's poll position.
-- Not tenant data (a wallet's public trades), so no row-level security; only the worker
-- reads or writes it.
CREATE TABLE copy_trade_cursors (
    target_id           uuid PRIMARY KEY,
    wallet              text NOT NULL CHECK (wallet ~ '^0x[0-9a-f]{40}$'),
    -- Trades at or after this Unix second are read again on the next poll (dedup makes the
    -- overlap harmless); it is the poll's start, so a trade landing mid-poll is never skipped.
    watermark           bigint NOT NULL CHECK (watermark >= 0),
    polled_at           timestamptz NOT NULL
);

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['copy_trade_targets', 'copy_trade_grants', 'copy_trade_fills',
            'copy_trade_decisions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
