DROP TABLE creator_plans;
ALTER TABLE economy_purchases
    DROP CONSTRAINT economy_purchases_purpose_check,
    ADD CONSTRAINT economy_purchases_purpose_check
        CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee'));
ALTER TABLE economy_quotes
    DROP CONSTRAINT economy_quotes_plan_shape,
    DROP CONSTRAINT economy_quotes_clone_shape,
    DROP CONSTRAINT economy_quotes_purpose_check,
    DROP COLUMN target_plan,
    ADD CONSTRAINT economy_quotes_purpose_check
        CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee')),
    ADD CONSTRAINT economy_quotes_check CHECK ((purpose = 'clone_creation') = (clone_id IS NULL));
