-- Creator plans, bought through the vault like other purchases: purpose `creator_plan` with a
-- target plan (`pro` or `creator`; Starter is the default, never sold). The purchase's effect,
-- in the purchase's transaction, is the buyer's row in `creator_plans`.
ALTER TABLE economy_quotes
    DROP CONSTRAINT economy_quotes_purpose_check,
    DROP CONSTRAINT economy_quotes_check,
    ADD COLUMN target_plan text CHECK (target_plan IN ('pro', 'creator')),
    ADD CONSTRAINT economy_quotes_purpose_check
        CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee', 'creator_plan')),
    ADD CONSTRAINT economy_quotes_clone_shape
        CHECK ((purpose IN ('clone_creation', 'creator_plan')) = (clone_id IS NULL)),
    ADD CONSTRAINT economy_quotes_plan_shape
        CHECK ((purpose = 'creator_plan') = (target_plan IS NOT NULL));

ALTER TABLE economy_purchases
    DROP CONSTRAINT economy_purchases_purpose_check,
    ADD CONSTRAINT economy_purchases_purpose_check
        CHECK (purpose IN ('clone_creation', 'capacity_upgrade', 'audition_fee', 'creator_plan'));

-- A creator's plan in force: one row per user who bought one (no row is Starter). A later
-- purchase of a lower plan leaves it alone, so a payment never downgrades.
CREATE TABLE creator_plans (
    user_id      uuid PRIMARY KEY REFERENCES users (id),
    plan         text NOT NULL CHECK (plan IN ('pro', 'creator')),
    purchase_id  uuid NOT NULL REFERENCES economy_purchases (id),
    updated_at   timestamptz NOT NULL
);
ALTER TABLE creator_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE creator_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY creator_plans_owner ON creator_plans
    USING (user_id = app_current_user_id() OR app_cross_tenant())
    WITH CHECK (user_id = app_current_user_id() OR app_cross_tenant());
