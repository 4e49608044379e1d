-- Economy: signed quotes, submitted deposits (with re-check leases) and purchase facts.
--
-- On-chain integers (amounts, nonces: uint256) are stored as decimal text in base units, never
-- as floats or bounded NUMERIC. Purchase idempotency is the unique (resolver, nonce) pair.

CREATE TABLE economy_quotes (
    id              uuid PRIMARY KEY,
    payer_user_id   uuid NOT NULL REFERENCES users (id),
    payer_address   text NOT NULL CHECK (payer_address ~ '^0x[0-9a-f]{40}$'),
    purpose         text NOT NULL CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee')),
    -- The clone a capacity upgrade or audition fee is for; the name a new clone gets.
    clone_id        uuid,
    target_tier     text CHECK (target_tier IN ('pro', 'elite')),
    clone_name      text CHECK (length(clone_name) BETWEEN 1 AND 80),
    chain_id        bigint NOT NULL CHECK (chain_id > 0),
    vault_address   text NOT NULL CHECK (vault_address ~ '^0x[0-9a-f]{40}$'),
    token_address   text NOT NULL CHECK (token_address ~ '^0x[0-9a-f]{40}$'),
    amount          text NOT NULL CHECK (amount ~ '^[1-9][0-9]{0,77}$'),
    nonce           text NOT NULL CHECK (nonce ~ '^(0|[1-9][0-9]{0,77})$'),
    deadline        timestamptz NOT NULL,
    signature       text NOT NULL CHECK (signature ~ '^0x[0-9a-f]{130}$'),
    created_at      timestamptz NOT NULL,
    UNIQUE (vault_address, nonce),
    CHECK ((purpose = 'clone_creation') = (clone_id IS NULL)),
    CHECK ((purpose = 'capacity_upgrade') = (target_tier IS NOT NULL)),
    CHECK (purpose = 'clone_creation' OR clone_name IS NULL)
);
CREATE INDEX economy_quotes_payer_idx ON economy_quotes (payer_user_id, created_at);

-- A submitted deposit transaction: checked at once, and again by the worker while pending.
CREATE TABLE economy_deposits (
    id                  uuid PRIMARY KEY,
    quote_id            uuid NOT NULL REFERENCES economy_quotes (id),
    payer_user_id       uuid NOT NULL REFERENCES users (id),
    chain_id            bigint NOT NULL,
    tx_hash             text NOT NULL CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
    status              text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    confirmations       bigint NOT NULL DEFAULT 0,
    required_confirmations bigint NOT NULL,
    rejection_code      text,
    rejection_detail    text,
    attempts            integer NOT NULL DEFAULT 0,
    next_check_at       timestamptz NOT NULL,
    lease_expires_at    timestamptz,
    purchase_id         uuid,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- Per quote, not global: a transaction submitted against someone else's quote must not
    -- block its rightful payer (each user sees only their own deposits).
    UNIQUE (quote_id, tx_hash),
    CHECK ((status = 'rejected') = (rejection_code IS NOT NULL)),
    CHECK ((status = 'confirmed') = (purchase_id IS NOT NULL))
);
CREATE INDEX economy_deposits_due_idx ON economy_deposits (next_check_at) WHERE status = 'pending';

-- A verified payment. One per (vault, nonce), whoever submits it and however often.
CREATE TABLE economy_purchases (
    id              uuid PRIMARY KEY,
    payer_user_id   uuid NOT NULL REFERENCES users (id),
    quote_id        uuid NOT NULL UNIQUE REFERENCES economy_quotes (id),
    purpose         text NOT NULL CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee')),
    -- The clone created (clone_creation) or paid for (capacity_upgrade, audition_fee).
    clone_id        uuid,
    resolver        text NOT NULL CHECK (resolver ~ '^0x[0-9a-f]{40}$'),
    nonce           text NOT NULL,
    chain_id        bigint NOT NULL,
    tx_hash         text NOT NULL,
    block_number    bigint NOT NULL,
    log_index       bigint NOT NULL,
    payer_address   text NOT NULL,
    token_address   text NOT NULL,
    amount          text NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (resolver, nonce),
    UNIQUE (chain_id, tx_hash, log_index)
);
SELECT make_append_only('economy_purchases');

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['economy_quotes', 'economy_deposits', 'economy_purchases'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (payer_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (payer_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_payer', owned);
    END LOOP;
END
$$;
