-- Clone deployments (clones-deployment): one row per clone whose status is the single source
-- of truth, written only with what the pure state machine decided, and the append-only
-- history of every transition (who, event, from, to, error, when).
--
-- Addresses are lower-case 0x + 40 hex. `deposit_key` is the pool's deposit private key as a
-- clones-secrets envelope (enc:v<version>:…), bound to (clone_deployments, deposit_key, id,
-- owner_user_id); it is never stored in plaintext.

CREATE TABLE clone_deployments (
    id               uuid PRIMARY KEY,
    clone_id         uuid NOT NULL UNIQUE REFERENCES clones (id),
    owner_user_id    uuid NOT NULL REFERENCES users (id),
    status           text NOT NULL CHECK (status IN ('draft', 'pending_token_signature',
                         'token_created', 'pending_pool_signature', 'deployed', 'deactivated',
                         'archived', 'failed')),
    token_address    text CHECK (token_address ~ '^0x[0-9a-f]{40}$'),
    pool_address     text CHECK (pool_address ~ '^0x[0-9a-f]{40}$'),
    deposit_address  text CHECK (deposit_address ~ '^0x[0-9a-f]{40}$'),
    deposit_key      text CHECK (deposit_key ~ '^enc:v[1-9][0-9]*:'),
    last_error       text CHECK (length(last_error) BETWEEN 1 AND 2000),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((deposit_key IS NULL) = (deposit_address IS NULL)),
    CHECK (status NOT IN ('token_created', 'pending_pool_signature', 'deployed', 'deactivated')
           OR token_address IS NOT NULL),
    CHECK (status NOT IN ('deployed', 'deactivated') OR pool_address IS NOT NULL),
    CHECK (pool_address IS NULL OR token_address IS NOT NULL)
);
CREATE INDEX clone_deployments_owner_idx ON clone_deployments (owner_user_id);

CREATE TABLE clone_deployment_history (
    id               uuid PRIMARY KEY,
    deployment_id    uuid NOT NULL REFERENCES clone_deployments (id),
    owner_user_id    uuid NOT NULL REFERENCES users (id),
    -- The transition's place in its deployment's history, from 1.
    seq              integer NOT NULL CHECK (seq >= 1),
    -- Who: the owner (actor_user_id is theirs) or the system (chain confirmations).
    actor            text NOT NULL CHECK (actor IN ('owner', 'system')),
    actor_user_id    uuid REFERENCES users (id),
    event            text NOT NULL CHECK (event IN ('initiate_deployment',
                         'token_creation_success', 'initiate_pool_creation',
                         'pool_creation_success', 'fail', 'cancel', 'retry', 'deactivate',
                         'archive')),
    from_status      text NOT NULL,
    to_status        text NOT NULL,
    error            text CHECK (length(error) BETWEEN 1 AND 2000),
    created_at       timestamptz NOT NULL,
    UNIQUE (deployment_id, seq),
    CHECK ((actor = 'owner') = (actor_user_id IS NOT NULL))
);
SELECT make_append_only('clone_deployment_history');

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['clone_deployments', 'clone_deployment_history'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
