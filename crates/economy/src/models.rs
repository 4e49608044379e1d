//! Rows of the tables economy owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    creator_plans, economy_deposits, economy_purchases, economy_quotes, royalty_bookings,
    royalty_entries,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = economy_quotes, check_for_backend(diesel::pg::Pg))]
pub(crate) struct QuoteRow {
    pub id: Uuid,
    pub payer_user_id: Uuid,
    pub payer_address: String,
    pub purpose: String,
    pub clone_id: Option<Uuid>,
    pub target_tier: Option<String>,
    pub clone_name: Option<String>,
    pub chain_id: i64,
    pub vault_address: String,
    pub token_address: String,
    pub amount: String,
    pub nonce: String,
    pub deadline: DateTime<Utc>,
    pub signature: String,
    pub created_at: DateTime<Utc>,
    /// The plan a `creator_plan` quote buys.
    pub target_plan: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = economy_deposits, check_for_backend(diesel::pg::Pg))]
pub(crate) struct DepositRow {
    pub id: Uuid,
    pub quote_id: Uuid,
    pub payer_user_id: Uuid,
    pub chain_id: i64,
    pub tx_hash: String,
    pub status: String,
    pub confirmations: i64,
    pub required_confirmations: i64,
    pub rejection_code: Option<String>,
    pub rejection_detail: Option<String>,
    pub attempts: i32,
    pub next_check_at: DateTime<Utc>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub purchase_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = economy_purchases, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PurchaseRow {
    pub id: Uuid,
    pub payer_user_id: Uuid,
    pub quote_id: Option<Uuid>,
    pub purpose: String,
    pub clone_id: Option<Uuid>,
    pub resolver: Option<String>,
    /// A deposit's vault nonce, or the operator's reference of a grant.
    pub nonce: Option<String>,
    pub chain_id: Option<i64>,
    pub tx_hash: Option<String>,
    pub block_number: Option<i64>,
    pub log_index: Option<i64>,
    pub payer_address: Option<String>,
    pub token_address: Option<String>,
    pub amount: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `vault_deposit` or `operator_grant`.
    pub source: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = creator_plans, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CreatorPlanRow {
    pub user_id: Uuid,
    pub plan: String,
    pub purchase_id: Uuid,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = royalty_bookings, check_for_backend(diesel::pg::Pg))]
pub(crate) struct BookingRow {
    pub id: Uuid,
    pub fill_id: Uuid,
    pub account_id: Uuid,
    pub clone_id: Uuid,
    pub clone_owner_user_id: Uuid,
    pub strategy_id: Uuid,
    pub policy: String,
    pub quote_currency: String,
    pub realized_pnl: Decimal,
    pub royalty: Decimal,
    pub fill_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = royalty_entries, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EntryRow {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub seq: i32,
    /// `clone_debit`, `creator_credit` or `platform_credit`.
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub strategy_id: Uuid,
    pub amount: Decimal,
    pub gross: Option<Decimal>,
    pub creator_plan: Option<String>,
    pub quote_currency: String,
    pub created_at: DateTime<Utc>,
}
