-- A purchase is a verified vault deposit or an operator's grant of a clone (demo data, support
-- cases). Both are recorded by economy and create the clone in the same transaction, so every
-- clone still exists because economy recorded a purchase. A grant has no payment: its
-- on-chain columns are empty, and its `nonce` holds the operator's reference instead (a
-- deposit's nonce is unique per resolver, a grant's per owner), so a repeated grant finds the
-- first.
ALTER TABLE economy_purchases
    ADD COLUMN source text NOT NULL DEFAULT 'vault_deposit'
        CHECK (source IN ('vault_deposit', 'operator_grant')),
    ALTER COLUMN quote_id DROP NOT NULL,
    ALTER COLUMN resolver DROP NOT NULL,
    ALTER COLUMN nonce DROP NOT NULL,
    ALTER COLUMN chain_id DROP NOT NULL,
    ALTER COLUMN tx_hash DROP NOT NULL,
    ALTER COLUMN block_number DROP NOT NULL,
    ALTER COLUMN log_index DROP NOT NULL,
    ALTER COLUMN payer_address DROP NOT NULL,
    ALTER COLUMN token_address DROP NOT NULL,
    ALTER COLUMN amount DROP NOT NULL,
    ADD CONSTRAINT economy_purchases_source_shape CHECK (
        CASE source
            WHEN 'vault_deposit' THEN
                quote_id IS NOT NULL AND resolver IS NOT NULL AND nonce IS NOT NULL
                AND chain_id IS NOT NULL AND tx_hash IS NOT NULL AND block_number IS NOT NULL
                AND log_index IS NOT NULL AND payer_address IS NOT NULL
                AND token_address IS NOT NULL AND amount IS NOT NULL
            ELSE
                purpose = 'clone_creation' AND clone_id IS NOT NULL
                AND length(nonce) BETWEEN 1 AND 200
                AND quote_id IS NULL AND resolver IS NULL
                AND chain_id IS NULL AND tx_hash IS NULL AND block_number IS NULL
                AND log_index IS NULL AND payer_address IS NULL
                AND token_address IS NULL AND amount IS NULL
        END
    );
CREATE UNIQUE INDEX economy_purchases_one_grant_per_reference
    ON economy_purchases (payer_user_id, nonce) WHERE source = 'operator_grant';
