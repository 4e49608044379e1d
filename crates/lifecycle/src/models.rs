//! Rows of the tables lifecycle owns, named for diesel's derives. Only [`crate::repo`] and
//! the service read and write them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clones_db::schema::{
    arena_clone_memberships, audition_refund_authorizations, audition_rule_sets,
    audition_run_evaluations, audition_run_events, audition_runs, promotion_queue_entries,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audition_rule_sets, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RuleSetRow {
    pub code: String,
    pub quote_currency: String,
    pub starting_balance: Decimal,
    pub profit_target_pct: Option<Decimal>,
    pub max_daily_loss_pct: Decimal,
    pub daily_loss_basis: String,
    pub max_drawdown_pct: Decimal,
    pub drawdown_basis: String,
    pub drawdown_mode: String,
    pub daily_reset_time: NaiveTime,
    pub time_zone: String,
    pub min_trading_days: i32,
    pub max_window_minutes: i32,
    pub free_retries: i32,
    pub retry_on: Vec<Option<String>>,
    pub active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audition_runs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RunRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub purchase_id: Uuid,
    pub attempt: i32,
    pub rule_set_code: String,
    pub rules: serde_json::Value,
    pub prop_account_id: Uuid,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub status: String,
    pub failure_rule: Option<String>,
    pub failure_detail: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audition_run_evaluations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EvaluationRow {
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub last_snapshot_at: Option<DateTime<Utc>>,
    pub last_fill_at: Option<DateTime<Utc>>,
    pub trading_day: Option<NaiveDate>,
    pub day_start_value: Decimal,
    pub peak_value: Decimal,
    pub last_fill_day: Option<NaiveDate>,
    pub trading_days: i32,
    pub latest_equity: Decimal,
    pub latest_cash: Decimal,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// With `last_fill_at`, the position of the last fill read (both set or both null).
    pub last_fill_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audition_run_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RunEventRow {
    pub id: Uuid,
    #[diesel(skip_insertion)]
    #[expect(dead_code, reason = "assigned by the database; only ordered by")]
    pub seq: i64,
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub kind: String,
    pub actor_user_id: Option<Uuid>,
    pub actor: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audition_refund_authorizations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RefundRow {
    pub id: Uuid,
    pub purchase_id: Uuid,
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub amount: String,
    pub token_address: String,
    pub chain_id: i64,
    pub reason: String,
    pub authorized_by: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = promotion_queue_entries, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EntryRow {
    pub id: Uuid,
    pub run_id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub status: String,
    pub last_skip_reason: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = arena_clone_memberships, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MembershipRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub entry_id: Uuid,
    pub prop_account_id: Uuid,
    pub status: String,
    pub joined_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}
