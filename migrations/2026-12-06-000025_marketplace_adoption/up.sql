-- Adoption of a marketplace strategy by a clone: the draft it becomes, and the version
-- published from that draft, record the strategy it came from (NULL for a graph written by
-- hand). Economy reads the origin of the version in force to book royalties.
ALTER TABLE clone_strategy_drafts
    ADD COLUMN marketplace_strategy_id uuid REFERENCES user_strategies (id);
ALTER TABLE clone_strategy_versions
    ADD COLUMN marketplace_strategy_id uuid REFERENCES user_strategies (id);

-- Published versions stay immutable with the new column: only deactivation is allowed.
CREATE OR REPLACE FUNCTION reject_strategy_version_change() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.is_active AND NOT NEW.is_active
        AND (NEW.id, NEW.clone_id, NEW.owner_user_id, NEW.version, NEW.graph, NEW.fingerprint,
             NEW.published_at, NEW.marketplace_strategy_id)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.clone_id, OLD.owner_user_id, OLD.version, OLD.graph, OLD.fingerprint,
             OLD.published_at, OLD.marketplace_strategy_id)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'published strategy versions are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'P0A01';
END
$$;

-- Royalty booking looks up the version in force when a fill happened.
CREATE INDEX clone_strategy_versions_published_idx
    ON clone_strategy_versions (clone_id, published_at);
