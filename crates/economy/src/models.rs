//! Rows of the tables economy owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{economy_deposits, economy_purchases, economy_quotes};
use diesel::prelude::*;
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
