-- Clone service: clones, strategy drafts and immutable versions, effective entitlements, trade
-- universe and asset selection rules, public profiles, reports and the moderation audit.
--
-- Every user-owned row carries owner_user_id so row-level security can scope it without joins.
-- Cross-tenant access (public profile reads aside) goes through app_cross_tenant(), which only
-- the named, audited Db::cross_tenant_transaction path sets.

-- True inside a transaction opened by the audited cross-tenant path.
CREATE FUNCTION app_cross_tenant() RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(current_setting('app.cross_tenant', true), '') <> ''
$$;

CREATE TABLE clones (
    id                     uuid PRIMARY KEY,
    owner_user_id          uuid NOT NULL REFERENCES users (id),
    -- The owner's private operational name; public names live in clone_public_profiles.
    display_name           text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    model                  text NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    -- Internal runtime/admin status; never shown to users as their clone's progress.
    status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'retired')),
    -- The economy purchase that paid for the clone: one purchase creates at most one clone.
    created_by_purchase_id uuid NOT NULL UNIQUE,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX clones_owner_idx ON clones (owner_user_id, created_at);

CREATE TABLE clone_strategy_drafts (
    clone_id       uuid PRIMARY KEY REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    graph          jsonb NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE clone_strategy_versions (
    id             uuid PRIMARY KEY,
    clone_id       uuid NOT NULL REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    version        integer NOT NULL CHECK (version > 0),
    graph          jsonb NOT NULL,
    fingerprint    text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    is_active      boolean NOT NULL,
    published_at   timestamptz NOT NULL,
    UNIQUE (clone_id, version)
);
-- Exactly one active version per clone (at most one here; publish always inserts an active one).
CREATE UNIQUE INDEX clone_strategy_versions_one_active ON clone_strategy_versions (clone_id) WHERE is_active;

-- Published versions are immutable: only deactivation is allowed, and nothing is ever deleted.
CREATE FUNCTION reject_strategy_version_change() RETURNS trigger
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
CREATE TRIGGER clone_strategy_versions_immutable
    BEFORE UPDATE OR DELETE ON clone_strategy_versions
    FOR EACH ROW EXECUTE FUNCTION reject_strategy_version_change();

-- The effective entitlement of a clone: one row, upserted by economy purchases or operators.
CREATE TABLE clone_capacity_entitlements (
    clone_id                uuid PRIMARY KEY REFERENCES clones (id),
    owner_user_id           uuid NOT NULL REFERENCES users (id),
    tier                    text NOT NULL CHECK (tier IN ('starter', 'pro', 'elite')),
    max_active_assets       integer NOT NULL CHECK (max_active_assets BETWEEN 1 AND 100),
    allowed_model_strength  text NOT NULL CHECK (allowed_model_strength IN ('basic', 'standard', 'advanced', 'frontier')),
    source                  text NOT NULL CHECK (source IN ('purchase', 'manual', 'debug')),
    -- Sync ids: the economy purchase that granted it, or an operator's reference.
    source_purchase_id      uuid,
    source_reference        text CHECK (length(source_reference) <= 200),
    status                  text NOT NULL CHECK (status IN ('active', 'revoked')),
    effective_at            timestamptz NOT NULL,
    expires_at              timestamptz,
    revoked_at              timestamptz,
    updated_at              timestamptz NOT NULL,
    CHECK ((source = 'purchase') = (source_purchase_id IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CHECK (expires_at IS NULL OR expires_at > effective_at)
);

-- The assets a clone may trade (chosen by its owner within the entitlement's capacity).
CREATE TABLE clone_trade_universe (
    clone_id       uuid NOT NULL REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    asset          text NOT NULL CHECK (asset ~ '^[A-Za-z0-9:._/-]{1,64}$'),
    added_at       timestamptz NOT NULL,
    PRIMARY KEY (clone_id, asset)
);

-- How a clone's active assets are picked from its universe.
CREATE TABLE clone_asset_selection_rules (
    clone_id       uuid PRIMARY KEY REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    mode           text NOT NULL CHECK (mode IN ('all_in_universe', 'top_by_volume')),
    max_assets     integer NOT NULL CHECK (max_assets BETWEEN 1 AND 100),
    updated_at     timestamptz NOT NULL
);

CREATE TABLE clone_public_profiles (
    clone_id       uuid PRIMARY KEY REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    username       text NOT NULL CHECK (username ~ '^[a-z0-9_]{3,32}$'),
    bio            text NOT NULL DEFAULT '' CHECK (length(bio) <= 1000),
    avatar_url     text CHECK (avatar_url ~ '^https?://' AND length(avatar_url) <= 500),
    status         text NOT NULL CHECK (status IN ('approved', 'retired')),
    submitted_at   timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- Usernames are unique among profiles that are not retired.
CREATE UNIQUE INDEX clone_public_profiles_username_live ON clone_public_profiles (username) WHERE status <> 'retired';

CREATE TABLE clone_reports (
    id                uuid PRIMARY KEY,
    clone_id          uuid NOT NULL REFERENCES clones (id),
    reporter_user_id  uuid NOT NULL REFERENCES users (id),
    reason            text NOT NULL CHECK (reason IN ('spam', 'impersonation', 'offensive', 'misleading', 'other')),
    details           text NOT NULL DEFAULT '' CHECK (length(details) <= 2000),
    status            text NOT NULL CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at        timestamptz NOT NULL,
    resolved_at       timestamptz,
    resolved_by       uuid REFERENCES users (id),
    resolution_note   text CHECK (length(resolution_note) <= 2000),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX clone_reports_open_idx ON clone_reports (created_at) WHERE status = 'open';
CREATE INDEX clone_reports_clone_idx ON clone_reports (clone_id, created_at);

-- Who did what to a clone's public presence: admin decisions and owner publications.
CREATE TABLE clone_moderation_actions (
    id             uuid PRIMARY KEY,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    clone_id       uuid NOT NULL REFERENCES clones (id),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    actor_user_id  uuid REFERENCES users (id),
    actor_kind     text NOT NULL CHECK (actor_kind IN ('owner', 'admin', 'system')),
    action         text NOT NULL CHECK (action IN ('profile_published', 'profile_updated', 'report_dismissed', 'report_actioned', 'retired', 'reinstated')),
    report_id      uuid REFERENCES clone_reports (id),
    reason         text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    created_at     timestamptz NOT NULL
);
CREATE INDEX clone_moderation_actions_clone_idx ON clone_moderation_actions (clone_id, created_at, seq);
SELECT make_append_only('clone_moderation_actions');

-- Row-level security: owners see their own rows; the audited cross-tenant path sees all.
DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY[
        'clones', 'clone_strategy_drafts', 'clone_strategy_versions', 'clone_capacity_entitlements',
        'clone_trade_universe', 'clone_asset_selection_rules', 'clone_public_profiles',
        'clone_moderation_actions'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (owner_user_id = app_current_user_id() OR app_cross_tenant()) '
            'WITH CHECK (owner_user_id = app_current_user_id() OR app_cross_tenant())',
            owned || '_owner', owned);
    END LOOP;
END
$$;
-- Approved public profiles are readable by anyone.
CREATE POLICY clone_public_profiles_public_read ON clone_public_profiles
    FOR SELECT USING (status = 'approved');
-- Reports belong to their reporter.
ALTER TABLE clone_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE clone_reports FORCE ROW LEVEL SECURITY;
CREATE POLICY clone_reports_reporter ON clone_reports
    USING (reporter_user_id = app_current_user_id() OR app_cross_tenant())
    WITH CHECK (reporter_user_id = app_current_user_id() OR app_cross_tenant());
-- A reporter has at most one open report per clone; repeating it changes nothing.
CREATE UNIQUE INDEX clone_reports_one_open_per_reporter ON clone_reports (clone_id, reporter_user_id) WHERE status = 'open';
