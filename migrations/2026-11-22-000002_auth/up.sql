-- Identity: users, their wallets, sign-in challenges, sessions (refresh-token families),
-- refresh tokens, service tokens, roles and the per-user security event log.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    created_at  timestamptz NOT NULL
);

-- An address belongs to exactly one user; addresses are stored lowercase.
CREATE TABLE user_wallets (
    address     text PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chain_id    bigint NOT NULL CHECK (chain_id > 0),
    linked_at   timestamptz NOT NULL
);
CREATE INDEX user_wallets_user_id_idx ON user_wallets (user_id);

CREATE TABLE user_roles (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin')),
    granted_at  timestamptz NOT NULL,
    granted_by  text NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- A SIWE challenge: the exact message the server issued, single use through consumed_at.
-- `requested_by` is set for link-wallet challenges, which only that user may complete.
CREATE TABLE auth_challenges (
    nonce         text PRIMARY KEY CHECK (nonce ~ '^[A-Za-z0-9]{8,64}$'),
    purpose       text NOT NULL CHECK (purpose IN ('sign_in', 'link_wallet')),
    address       text NOT NULL CHECK (address ~ '^0x[0-9a-f]{40}$'),
    chain_id      bigint NOT NULL CHECK (chain_id > 0),
    requested_by  uuid REFERENCES users (id) ON DELETE CASCADE,
    message       text NOT NULL,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    consumed_at   timestamptz,
    CHECK ((purpose = 'link_wallet') = (requested_by IS NOT NULL)),
    CHECK (expires_at > issued_at)
);
CREATE INDEX auth_challenges_expires_at_idx ON auth_challenges (expires_at);

-- One session per sign-in; it is also the refresh-token family that reuse detection revokes.
CREATE TABLE sessions (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    wallet_address     text NOT NULL,
    created_at         timestamptz NOT NULL,
    last_refreshed_at  timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text CHECK (revoked_reason IN ('logout', 'logout_all', 'refresh_reuse')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored only as SHA-256 hashes; `used_at` makes each one single use.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation  integer NOT NULL CHECK (generation >= 0),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    UNIQUE (session_id, generation)
);

-- Tokens for workers and operators: hashed, scoped, revocable.
CREATE TABLE service_tokens (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0),
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- What happened to a user's account (sign-ins, wallet links, refresh reuse). Owned by the user:
-- row-level security keeps each user to their own rows, and rows are never changed.
CREATE TABLE security_events (
    id          uuid PRIMARY KEY,
    -- Insertion order, to order events that share a timestamp.
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    -- No cascade: the log is append-only, so a user with events cannot silently disappear.
    user_id     uuid NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('sign_in', 'wallet_linked', 'refresh_reuse_detected', 'logout', 'logout_all')),
    session_id  uuid,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL
);
CREATE INDEX security_events_user_created_idx ON security_events (user_id, created_at DESC, seq DESC);
SELECT make_append_only('security_events');
ALTER TABLE security_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_events FORCE ROW LEVEL SECURITY;
CREATE POLICY security_events_owner ON security_events
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
