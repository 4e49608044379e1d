-- Purchases are append-only, so recorded grants cannot be removed here: reverting is refused
-- while any exists.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM economy_purchases WHERE source = 'operator_grant') THEN
        RAISE EXCEPTION 'operator grants are recorded; economy_purchases cannot lose its source';
    END IF;
END
$$;
DROP INDEX economy_purchases_one_grant_per_reference;
ALTER TABLE economy_purchases
    DROP CONSTRAINT economy_purchases_source_shape,
    DROP COLUMN source,
    ALTER COLUMN quote_id SET NOT NULL,
    ALTER COLUMN resolver SET NOT NULL,
    ALTER COLUMN nonce SET NOT NULL,
    ALTER COLUMN chain_id SET NOT NULL,
    ALTER COLUMN tx_hash SET NOT NULL,
    ALTER COLUMN block_number SET NOT NULL,
    ALTER COLUMN log_index SET NOT NULL,
    ALTER COLUMN payer_address SET NOT NULL,
    ALTER COLUMN token_address SET NOT NULL,
    ALTER COLUMN amount SET NOT NULL;
