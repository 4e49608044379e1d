-- Royalties booked by economy on the profitable closing fills of clones trading an adopted
-- marketplace strategy in the Arena. One booking per fill (the idempotency key), with
-- append-only entries that balance: the clone's account is debited the royalty, each creator
-- is credited their share net of their plan's platform fee, and the platform the fees.
-- Amounts are NUMERIC cents, never floats.
CREATE TABLE royalty_bookings (
    id                   uuid PRIMARY KEY,
    -- The prop fill and account, without foreign keys: prop-engine's append-only tables
    -- stay its own (a reference would change what TRUNCATE on them reports).
    fill_id              uuid NOT NULL UNIQUE,
    account_id           uuid NOT NULL,
    clone_id             uuid NOT NULL REFERENCES clones (id),
    clone_owner_user_id  uuid NOT NULL REFERENCES users (id),
    strategy_id          uuid NOT NULL REFERENCES user_strategies (id),
    policy               text NOT NULL CHECK (policy IN ('original_only', 'lineage_split')),
    quote_currency       text NOT NULL CHECK (length(quote_currency) BETWEEN 1 AND 16),
    realized_pnl         numeric(38, 10) NOT NULL CHECK (realized_pnl > 0),
    royalty              numeric(38, 2) NOT NULL CHECK (royalty > 0),
    fill_at              timestamptz NOT NULL,
    created_at           timestamptz NOT NULL
);
SELECT make_append_only('royalty_bookings');
CREATE INDEX royalty_bookings_owner_idx ON royalty_bookings (clone_owner_user_id, created_at, id);

CREATE TABLE royalty_entries (
    id            uuid PRIMARY KEY,
    booking_id    uuid NOT NULL REFERENCES royalty_bookings (id),
    seq           integer NOT NULL CHECK (seq >= 0),
    kind          text NOT NULL CHECK (kind IN ('clone_debit', 'creator_credit', 'platform_credit')),
    -- The clone's owner for the debit, the creator for a credit, NULL for the platform.
    user_id       uuid REFERENCES users (id),
    strategy_id   uuid NOT NULL REFERENCES user_strategies (id),
    amount        numeric(38, 2) NOT NULL CHECK (amount > 0),
    -- A creator credit's share before the fee, and the plan that set the fee.
    gross         numeric(38, 2) CHECK (gross > 0),
    creator_plan  text CHECK (creator_plan IN ('starter', 'pro', 'creator')),
    quote_currency text NOT NULL,
    created_at    timestamptz NOT NULL,
    UNIQUE (booking_id, seq),
    CHECK ((kind = 'platform_credit') = (user_id IS NULL)),
    CHECK ((kind = 'creator_credit') = (gross IS NOT NULL AND creator_plan IS NOT NULL)),
    CHECK (gross IS NULL OR amount <= gross)
);
SELECT make_append_only('royalty_entries');
CREATE INDEX royalty_entries_user_idx ON royalty_entries (user_id, created_at, id) WHERE kind = 'creator_credit';

-- Every booking balances at commit: its debit is its royalty, and its credits add up to it.
CREATE FUNCTION check_royalty_balanced() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    expected numeric;
    debits numeric;
    credits numeric;
BEGIN
    SELECT royalty INTO expected FROM royalty_bookings WHERE id = NEW.id;
    SELECT coalesce(sum(amount) FILTER (WHERE kind = 'clone_debit'), 0),
           coalesce(sum(amount) FILTER (WHERE kind <> 'clone_debit'), 0)
      INTO debits, credits
      FROM royalty_entries WHERE booking_id = NEW.id;
    IF debits <> expected OR credits <> expected THEN
        RAISE EXCEPTION 'royalty booking % does not balance: royalty %, debits %, credits %',
            NEW.id, expected, debits, credits
            USING ERRCODE = 'P0A02';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER royalty_bookings_balanced
    AFTER INSERT ON royalty_bookings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_royalty_balanced();

-- How far the booking has read the prop fills: one row, moved forward only.
CREATE TABLE royalty_cursor (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    fill_at   timestamptz NOT NULL,
    fill_id   uuid NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Bookings are visible to the clone's owner and to the creators credited in them; entries to
-- the user they name; the cursor only to the worker.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE royalty_bookings ENABLE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE royalty_bookings FORCE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE royalty_entries ENABLE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE royalty_entries FORCE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE royalty_cursor ENABLE ROW LEVEL SECURITY';
    EXECUTE 'ALTER TABLE royalty_cursor FORCE ROW LEVEL SECURITY';
END
$$;
CREATE POLICY royalty_bookings_read ON royalty_bookings FOR SELECT
    USING (app_cross_tenant() OR clone_owner_user_id = app_current_user_id());
CREATE POLICY royalty_bookings_write ON royalty_bookings FOR INSERT
    WITH CHECK (app_cross_tenant());
CREATE POLICY royalty_entries_read ON royalty_entries FOR SELECT
    USING (app_cross_tenant() OR user_id = app_current_user_id());
CREATE POLICY royalty_entries_write ON royalty_entries FOR INSERT
    WITH CHECK (app_cross_tenant());
CREATE POLICY royalty_cursor_worker ON royalty_cursor
    USING (app_cross_tenant()) WITH CHECK (app_cross_tenant());

-- Prop-engine's read of profitable fills for the booking scans them in time order.
CREATE INDEX prop_fills_profit_idx ON prop_fills (created_at, id) WHERE realized_pnl > 0;
