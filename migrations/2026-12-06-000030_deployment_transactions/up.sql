-- Transactions an owner submitted for a deployment's pending signature step (clones-deployment):
-- the token or pool creation the owner's wallet signed and sent, identified by its hash, until
-- the deployment worker confirms or fails it from the receipt.
--
-- `step` is the deployment step the transaction was submitted for (`token`, `pool`). `status`
-- moves once from `pending` to `confirmed` (the receipt, its confirmations and the factory's
-- event match: the deployment advanced in the same transaction), `failed` (reverted or the
-- wrong event: the deployment failed in the same transaction) or `superseded` (the deployment
-- had left that step when the receipt was seen). At most one transaction per deployment and
-- step is ever confirmed. Hashes are lower-case 0x + 64 hex.

CREATE TABLE deployment_transactions (
    id               uuid PRIMARY KEY,
    deployment_id    uuid NOT NULL REFERENCES clone_deployments (id),
    owner_user_id    uuid NOT NULL REFERENCES users (id),
    step             text NOT NULL CHECK (step IN ('token', 'pool')),
    tx_hash          text NOT NULL CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
    status           text NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed',
                         'superseded')),
    -- Confirmations seen at the last check (pending), or when settled.
    confirmations    bigint NOT NULL DEFAULT 0 CHECK (confirmations >= 0),
    -- The created contract, once confirmed.
    contract_address text CHECK (contract_address ~ '^0x[0-9a-f]{40}$'),
    error            text CHECK (length(error) BETWEEN 1 AND 2000),
    -- When the worker may look at a pending transaction next (a lease while it does).
    next_check_at    timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    settled_at       timestamptz,
    UNIQUE (deployment_id, tx_hash),
    CHECK ((status = 'pending') = (settled_at IS NULL)),
    CHECK ((status = 'confirmed') = (contract_address IS NOT NULL)),
    CHECK ((status = 'failed') = (error IS NOT NULL))
);
CREATE UNIQUE INDEX deployment_transactions_one_confirmed_idx
    ON deployment_transactions (deployment_id, step) WHERE status = 'confirmed';
CREATE INDEX deployment_transactions_due_idx
    ON deployment_transactions (next_check_at) WHERE status = 'pending';
CREATE INDEX deployment_transactions_owner_idx ON deployment_transactions (owner_user_id);

ALTER TABLE deployment_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE deployment_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY deployment_transactions_owner ON deployment_transactions
    USING (owner_user_id = app_current_user_id() OR app_cross_tenant())
    WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant());
