DROP FUNCTION make_append_only(regclass);
DROP FUNCTION reject_append_only_mutation();
DROP FUNCTION app_current_user_id();
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE USAGE, SELECT ON SEQUENCES FROM clones_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM clones_app;
REVOKE SELECT ON __diesel_schema_migrations FROM clones_app;
REVOKE USAGE ON SCHEMA public FROM clones_app;
-- The role is cluster-wide and may serve other databases, so it is left in place.
