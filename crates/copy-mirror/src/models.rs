//! Rows of the tables copy-mirror owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    copy_trade_clob_accounts, copy_trade_decisions, copy_trade_fills, copy_trade_grants,
    copy_trade_targets,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = copy_trade_targets, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TargetRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub target_id: Uuid,
    pub wallet: String,
    pub label: Option<String>,
    pub active: bool,
    pub filter_percentile: Option<i16>,
    pub max_usdc_per_trade: Decimal,
    pub max_position_usdc: Option<Decimal>,
    pub sizing: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = copy_trade_grants, check_for_backend(diesel::pg::Pg))]
pub(crate) struct GrantRow {
    pub owner_user_id: Uuid,
    pub per_order_usdc_cap: Decimal,
    pub daily_usdc_cap: Decimal,
    pub hourly_fills_cap: i32,
    pub kill_switch: bool,
    pub executor: String,
    pub paper_account_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = copy_trade_fills, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LedgerRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub target_row_id: Uuid,
    pub target_id: Uuid,
    pub fill_id: String,
    pub idempotency_key: String,
    pub fill: serde_json::Value,
    pub side: Option<String>,
    pub size: Option<Decimal>,
    pub limit_price: Option<Decimal>,
    pub status: String,
    pub venue_order_id: Option<String>,
    pub observed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub synced_at: Option<DateTime<Utc>>,
    pub executor: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = copy_trade_decisions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct DecisionRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub ledger_id: Uuid,
    pub idempotency_key: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A tenant's CLOB wallet. `private_key`, `api_secret` and `api_passphrase` are clones-secrets
/// envelopes, opened only through their registered columns.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = copy_trade_clob_accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ClobAccountRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub address: String,
    pub private_key: String,
    pub api_key: Option<String>,
    pub api_secret: Option<String>,
    pub api_passphrase: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub positions_checked_at: Option<DateTime<Utc>>,
    pub positions_tokens: Option<i32>,
    pub positions_mismatched: Option<i32>,
    pub positions_max_difference: Option<Decimal>,
    pub positions_max_token: Option<String>,
}
