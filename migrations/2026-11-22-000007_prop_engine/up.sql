-- Prop engine: synthetic prop accounts, orders, fills, positions, balances, a double-entry
-- ledger, equity snapshots and the admin audit log.
--
-- Amounts, prices and sizes are NUMERIC(28, 10) (rust_decimal holds 28 significant digits).
-- Every user-owned table carries owner_user_id for row-level security. Fills, ledger events,
-- ledger entries, equity snapshots and the admin audit log are append-only; a deferred
-- constraint trigger refuses to commit a ledger event whose entries do not sum to zero.

CREATE TABLE prop_accounts (
    id                      uuid PRIMARY KEY,
    owner_user_id           uuid NOT NULL REFERENCES users (id),
    clone_id                uuid,
    context                 text NOT NULL CHECK (context IN ('audition', 'arena', 'backtest', 'copy_mirror_paper')),
    quote_currency          text NOT NULL CHECK (quote_currency ~ '^[A-Z]{2,10}$'),
    starting_balance        numeric(28, 10) NOT NULL CHECK (starting_balance > 0 AND starting_balance <= 1000000000000),
    status                  text NOT NULL CHECK (status IN ('active', 'halted', 'closed')),
    halted_reason           text,
    -- The UTC day the day-start equity belongs to; rolled by the first order of a day.
    day_anchor              date NOT NULL,
    day_start_equity        numeric(28, 10) NOT NULL,
    peak_equity             numeric(28, 10) NOT NULL,
    last_mtm_at             timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    CHECK ((status = 'halted') = (halted_reason IS NOT NULL))
);
-- One row per account: the limits its safety gates enforce.
CREATE TABLE prop_account_limits (
    account_id              uuid PRIMARY KEY REFERENCES prop_accounts (id),
    owner_user_id           uuid NOT NULL REFERENCES users (id),
    max_order_notional      numeric(28, 10) NOT NULL CHECK (max_order_notional > 0),
    max_leverage            numeric(28, 10) NOT NULL CHECK (max_leverage > 0 AND max_leverage <= 100),
    max_position_notional   numeric(28, 10) NOT NULL CHECK (max_position_notional > 0),
    max_gross_exposure      numeric(28, 10) NOT NULL CHECK (max_gross_exposure > 0),
    daily_loss_limit        numeric(28, 10) NOT NULL CHECK (daily_loss_limit >= 0),
    max_orders_per_minute   integer NOT NULL CHECK (max_orders_per_minute > 0),
    -- NULL: every instrument; entries ending in '*' are prefixes.
    allowed_instruments     text[],
    updated_at              timestamptz NOT NULL
);
CREATE INDEX prop_accounts_owner_idx ON prop_accounts (owner_user_id, created_at);
CREATE INDEX prop_accounts_mtm_idx ON prop_accounts (last_mtm_at NULLS FIRST) WHERE status <> 'closed';

CREATE TABLE prop_orders (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES prop_accounts (id),
    owner_user_id       uuid NOT NULL REFERENCES users (id),
    -- The AI decision action this order executes: executing it twice is impossible.
    decision_action_id  text CHECK (length(decision_action_id) BETWEEN 1 AND 128),
    instrument          text NOT NULL CHECK (length(instrument) BETWEEN 5 AND 160),
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type          text NOT NULL CHECK (order_type IN ('market', 'limit')),
    size                numeric(28, 10) NOT NULL CHECK (size > 0),
    limit_price         numeric(28, 10) CHECK (limit_price > 0),
    reduce_only         boolean NOT NULL,
    time_in_force       text NOT NULL CHECK (time_in_force IN ('gtc', 'ioc', 'fok')),
    -- Executed size, prices, fees and PnL are the order's fills; the order keeps its outcome.
    status              text NOT NULL CHECK (status IN ('filled', 'partially_filled', 'unfilled', 'rejected')),
    rejection_code      text,
    rejection_detail    text,
    created_at          timestamptz NOT NULL,
    UNIQUE (account_id, decision_action_id),
    CHECK ((order_type = 'limit') = (limit_price IS NOT NULL)),
    CHECK ((status IN ('unfilled', 'rejected')) = (rejection_code IS NOT NULL))
);
CREATE INDEX prop_orders_account_idx ON prop_orders (account_id, created_at);

CREATE TABLE prop_fills (
    id              uuid PRIMARY KEY,
    order_id        uuid NOT NULL REFERENCES prop_orders (id),
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    seq             integer NOT NULL CHECK (seq >= 0),
    instrument      text NOT NULL,
    side            text NOT NULL CHECK (side IN ('buy', 'sell')),
    price           numeric(28, 10) NOT NULL CHECK (price >= 0),
    size            numeric(28, 10) NOT NULL CHECK (size > 0),
    fee             numeric(28, 10) NOT NULL CHECK (fee >= 0),
    realized_pnl    numeric(28, 10) NOT NULL,
    source          text NOT NULL CHECK (source IN ('book', 'mid_slippage')),
    created_at      timestamptz NOT NULL,
    UNIQUE (order_id, seq)
);
CREATE INDEX prop_fills_account_idx ON prop_fills (account_id, created_at);
SELECT make_append_only('prop_fills');

CREATE TABLE prop_positions (
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    instrument      text NOT NULL,
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL CHECK (kind IN ('perp', 'spot', 'outcome')),
    size            numeric(28, 10) NOT NULL,
    avg_entry       numeric(28, 10) NOT NULL CHECK (avg_entry >= 0),
    realized_pnl    numeric(28, 10) NOT NULL,
    funding_paid    numeric(28, 10) NOT NULL,
    last_funding_at timestamptz,
    settled_at      timestamptz,
    opened_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, instrument),
    CHECK (size <> 0 OR avg_entry = 0),
    CHECK (kind = 'perp' OR size >= 0)
);

CREATE TABLE prop_account_balances (
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    ledger_account  text NOT NULL CHECK (ledger_account IN ('cash', 'capital', 'fees', 'market', 'funding', 'settlement', 'adjustment')),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    balance         numeric(28, 10) NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, ledger_account)
);

CREATE TABLE prop_ledger_events (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL CHECK (kind IN ('opening', 'trade', 'funding', 'settlement', 'adjustment')),
    order_id        uuid REFERENCES prop_orders (id),
    -- The instrument (funding, settlement) or the admin audit entry (adjustment).
    reference       text,
    created_at      timestamptz NOT NULL,
    CHECK ((kind = 'trade') = (order_id IS NOT NULL))
);
CREATE INDEX prop_ledger_events_account_idx ON prop_ledger_events (account_id, created_at);
SELECT make_append_only('prop_ledger_events');

CREATE TABLE prop_ledger_entries (
    event_id        uuid NOT NULL REFERENCES prop_ledger_events (id),
    seq             integer NOT NULL CHECK (seq >= 0),
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    ledger_account  text NOT NULL CHECK (ledger_account IN ('cash', 'capital', 'fees', 'market', 'funding', 'settlement', 'adjustment')),
    amount          numeric(28, 10) NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (event_id, seq)
);
CREATE INDEX prop_ledger_entries_account_idx ON prop_ledger_entries (account_id, ledger_account);
SELECT make_append_only('prop_ledger_entries');

-- A ledger event must have at least two entries summing to zero when its transaction commits.
-- SECURITY DEFINER so the check sees every entry of the event whatever the caller's policies.
CREATE FUNCTION prop_assert_event_balanced(target uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    total numeric;
    entries bigint;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, entries
        FROM prop_ledger_entries WHERE event_id = target;
    IF entries < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger event % is unbalanced: % entries summing to %', target, entries, total
            USING ERRCODE = 'P0A02';
    END IF;
END
$$;

CREATE FUNCTION prop_check_event_balanced() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM prop_assert_event_balanced(NEW.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION prop_check_entry_balanced() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM prop_assert_event_balanced(NEW.event_id);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER prop_ledger_events_balanced
    AFTER INSERT ON prop_ledger_events DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION prop_check_event_balanced();
CREATE CONSTRAINT TRIGGER prop_ledger_entries_balanced
    AFTER INSERT ON prop_ledger_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION prop_check_entry_balanced();

CREATE TABLE prop_equity_snapshots (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    at              timestamptz NOT NULL,
    equity          numeric(28, 10) NOT NULL,
    cash            numeric(28, 10) NOT NULL,
    unrealized_pnl  numeric(28, 10) NOT NULL,
    used_margin     numeric(28, 10) NOT NULL CHECK (used_margin >= 0),
    gross_exposure  numeric(28, 10) NOT NULL CHECK (gross_exposure >= 0),
    peak_equity     numeric(28, 10) NOT NULL,
    drawdown        numeric(28, 10) NOT NULL CHECK (drawdown >= 0),
    UNIQUE (account_id, at)
);
SELECT make_append_only('prop_equity_snapshots');

-- Every admin action on a prop account. Read and written only through audited cross-tenant
-- transactions.
CREATE TABLE prop_admin_audit_log (
    id              uuid PRIMARY KEY,
    admin_user_id   uuid NOT NULL REFERENCES users (id),
    account_id      uuid NOT NULL REFERENCES prop_accounts (id),
    action          text NOT NULL CHECK (action IN ('halt', 'resume', 'adjustment')),
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    details         jsonb NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX prop_admin_audit_log_created_idx ON prop_admin_audit_log (created_at);
SELECT make_append_only('prop_admin_audit_log');

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['prop_accounts', 'prop_account_limits', 'prop_orders', 'prop_fills', 'prop_positions',
            'prop_account_balances', 'prop_ledger_events', 'prop_ledger_entries',
            'prop_equity_snapshots'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;

ALTER TABLE prop_admin_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE prop_admin_audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY prop_admin_audit_log_cross_tenant ON prop_admin_audit_log
    USING (app_cross_tenant()) WITH CHECK (app_cross_tenant());
