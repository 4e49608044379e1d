-- Per-tenant Polymarket CLOB wallets: one row per tenant with the address of a key the
-- platform generated, the key itself and the L2 API secret and passphrase as clones-secrets
-- envelopes (enc:v<version>:…), each bound to (copy_trade_clob_accounts, <column>, id,
-- owner_user_id). The API key is not secret (it is every order's `owner`) and is stored as
-- is; the three credentials are NULL together until the CLOB minted them.
--
-- The positions_* columns record the last cross-check of the wallet's Data API positions
-- against the ledger's net filled shares of the tenant's CLOB orders.
--
-- copy_trade_fill_shares: per ledger row with an accepted order, the shares it filled as the
-- venue last reported them (rows written before it existed have none: a `filled` row then
-- counts its whole size).

CREATE TABLE copy_trade_clob_accounts (
    id                          uuid PRIMARY KEY,
    owner_user_id               uuid NOT NULL UNIQUE REFERENCES users (id),
    address                     text NOT NULL UNIQUE CHECK (address ~ '^0x[0-9a-f]{40}$'),
    private_key                 text NOT NULL CHECK (private_key ~ '^enc:v[1-9][0-9]*:'),
    api_key                     text CHECK (length(api_key) BETWEEN 1 AND 200),
    api_secret                  text CHECK (api_secret ~ '^enc:v[1-9][0-9]*:'),
    api_passphrase              text CHECK (api_passphrase ~ '^enc:v[1-9][0-9]*:'),
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    positions_checked_at        timestamptz,
    positions_tokens            integer CHECK (positions_tokens >= 0),
    positions_mismatched        integer CHECK (positions_mismatched >= 0),
    positions_max_difference    numeric(28, 10) CHECK (positions_max_difference >= 0),
    positions_max_token         text CHECK (length(positions_max_token) BETWEEN 1 AND 100),
    CHECK ((api_key IS NULL) = (api_secret IS NULL) AND (api_key IS NULL) = (api_passphrase IS NULL)),
    CHECK ((positions_checked_at IS NULL) = (positions_tokens IS NULL)
        AND (positions_checked_at IS NULL) = (positions_mismatched IS NULL)
        AND (positions_checked_at IS NULL) = (positions_max_difference IS NULL))
);
-- The sync step's fan-out: accounts whose positions were not checked lately.
CREATE INDEX copy_trade_clob_accounts_checked_idx ON copy_trade_clob_accounts (positions_checked_at);

CREATE TABLE copy_trade_fill_shares (
    ledger_id       uuid PRIMARY KEY REFERENCES copy_trade_fills (id),
    owner_user_id   uuid NOT NULL REFERENCES users (id),
    filled          numeric(28, 10) NOT NULL CHECK (filled >= 0),
    updated_at      timestamptz NOT NULL
);
CREATE INDEX copy_trade_fill_shares_owner_idx ON copy_trade_fill_shares (owner_user_id);

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['copy_trade_clob_accounts', 'copy_trade_fill_shares'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
