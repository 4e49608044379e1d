-- Foundation: the application role, the tenant helper and the append-only helper.
--
-- The application connects as a login role that is a member of `clones_app` and owns no table,
-- so row-level security applies to it. Migrations run as the owner. Roles are cluster-wide, so
-- creating the group role tolerates it already existing (another database, a concurrent run).
-- The existence check comes first so an owner without CREATEROLE can migrate a database whose
-- cluster already has the role.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clones_app') THEN
        CREATE ROLE clones_app NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO clones_app;
GRANT SELECT ON __diesel_schema_migrations TO clones_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO clones_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO clones_app;

-- The user a tenant-scoped transaction acts for (set with SET LOCAL through set_config), or NULL.
CREATE FUNCTION app_current_user_id() RETURNS uuid
    LANGUAGE sql STABLE
AS $$
    SELECT NULLIF(current_setting('app.user_id', true), '')::uuid
$$;

-- Raised by the append-only guard; SQLSTATE 'P0A01' lets callers recognise it.
CREATE FUNCTION reject_append_only_mutation() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'P0A01';
END
$$;

-- Makes a table append-only: UPDATE, DELETE and TRUNCATE are rejected by the database itself.
CREATE FUNCTION make_append_only(target regclass) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON %s '
        'FOR EACH ROW EXECUTE FUNCTION reject_append_only_mutation()', target);
    EXECUTE format(
        'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_mutation()', target);
END
$$;
