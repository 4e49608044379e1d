//! Rows of the tables clone-service owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    clone_asset_selection_rules, clone_capacity_entitlements, clone_moderation_actions,
    clone_public_profiles, clone_reports, clone_strategy_drafts, clone_strategy_versions,
    clone_trade_universe, clones,
};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clones, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CloneRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub display_name: String,
    pub model: String,
    pub status: String,
    pub created_by_purchase_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_strategy_drafts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct DraftRow {
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub graph: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    /// The marketplace strategy this draft was adopted from; cleared by a hand edit.
    pub marketplace_strategy_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_strategy_versions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct VersionRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub version: i32,
    pub graph: serde_json::Value,
    pub fingerprint: String,
    pub is_active: bool,
    pub published_at: DateTime<Utc>,
    /// The marketplace strategy the published draft was adopted from.
    pub marketplace_strategy_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clone_capacity_entitlements, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct EntitlementRow {
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub tier: String,
    pub max_active_assets: i32,
    pub allowed_model_strength: String,
    pub source: String,
    pub source_purchase_id: Option<Uuid>,
    pub source_reference: Option<String>,
    pub status: String,
    pub effective_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_trade_universe, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UniverseRow {
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub asset: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clone_asset_selection_rules, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SelectionRow {
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub mode: String,
    pub max_assets: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clone_public_profiles, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct ProfileRow {
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub display_name: String,
    pub username: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_reports, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ReportRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub reporter_user_id: Uuid,
    pub reason: String,
    pub details: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_moderation_actions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ModerationRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub actor_kind: String,
    pub action: String,
    pub report_id: Option<Uuid>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}
