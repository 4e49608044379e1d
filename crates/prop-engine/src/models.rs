//! Rows of the tables prop-engine owns.

use chrono::{DateTime, NaiveDate, Utc};
use clones_db::schema::{
    prop_account_balances, prop_account_limits, prop_accounts, prop_admin_audit_log,
    prop_equity_snapshots, prop_fills, prop_ledger_entries, prop_ledger_events, prop_orders,
    prop_positions,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = prop_accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub clone_id: Option<Uuid>,
    pub context: String,
    pub quote_currency: String,
    pub starting_balance: Decimal,
    pub status: String,
    pub halted_reason: Option<String>,
    pub day_anchor: NaiveDate,
    pub day_start_equity: Decimal,
    pub peak_equity: Decimal,
    pub last_mtm_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Orders placed so far: the last order's `account_seq`.
    pub orders_placed: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_account_limits, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LimitsRow {
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub max_order_notional: Decimal,
    pub max_leverage: Decimal,
    pub max_position_notional: Decimal,
    pub max_gross_exposure: Decimal,
    pub daily_loss_limit: Decimal,
    pub max_orders_per_minute: i32,
    pub allowed_instruments: Option<Vec<Option<String>>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_orders, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub decision_action_id: Option<String>,
    pub instrument: String,
    pub side: String,
    pub order_type: String,
    pub size: Decimal,
    pub limit_price: Option<Decimal>,
    pub reduce_only: bool,
    pub time_in_force: String,
    pub status: String,
    pub rejection_code: Option<String>,
    pub rejection_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The order's number in its account's sequence (1, 2, …).
    pub account_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_fills, check_for_backend(diesel::pg::Pg))]
pub(crate) struct FillRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub seq: i32,
    pub instrument: String,
    pub side: String,
    pub price: Decimal,
    pub size: Decimal,
    pub fee: Decimal,
    pub realized_pnl: Decimal,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = prop_positions, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct PositionRow {
    pub account_id: Uuid,
    pub instrument: String,
    pub owner_user_id: Uuid,
    pub kind: String,
    pub size: Decimal,
    pub avg_entry: Decimal,
    pub realized_pnl: Decimal,
    pub funding_paid: Decimal,
    pub last_funding_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_account_balances, check_for_backend(diesel::pg::Pg))]
pub(crate) struct BalanceRow {
    pub account_id: Uuid,
    pub ledger_account: String,
    pub owner_user_id: Uuid,
    pub balance: Decimal,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_ledger_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LedgerEventRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub kind: String,
    pub order_id: Option<Uuid>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_ledger_entries, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LedgerEntryRow {
    pub event_id: Uuid,
    pub seq: i32,
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub ledger_account: String,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = prop_equity_snapshots, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EquitySnapshotRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub owner_user_id: Uuid,
    pub at: DateTime<Utc>,
    pub equity: Decimal,
    pub cash: Decimal,
    pub unrealized_pnl: Decimal,
    pub used_margin: Decimal,
    pub gross_exposure: Decimal,
    pub peak_equity: Decimal,
    pub drawdown: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prop_admin_audit_log, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AuditRow {
    pub id: Uuid,
    pub admin_user_id: Uuid,
    pub account_id: Uuid,
    pub action: String,
    pub reason: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}
