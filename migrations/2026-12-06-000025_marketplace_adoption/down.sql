DROP INDEX clone_strategy_versions_published_idx;
CREATE OR REPLACE FUNCTION reject_strategy_version_change() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.is_active AND NOT NEW.is_active
        AND (NEW.id, NEW.clone_id, NEW.owner_user_id, NEW.version, NEW.graph, NEW.fingerprint, NEW.published_at)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.clone_id, OLD.owner_user_id, OLD.version, OLD.graph, OLD.fingerprint, OLD.published_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'published strategy versions are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'P0A01';
END
$$;
ALTER TABLE clone_strategy_versions DROP COLUMN marketplace_strategy_id;
ALTER TABLE clone_strategy_drafts DROP COLUMN marketplace_strategy_id;
