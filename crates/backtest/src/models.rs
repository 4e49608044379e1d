//! Rows of the tables the backtest context owns.

use chrono::{DateTime, NaiveDate, Utc};
use clones_db::schema::{backtest_artifacts, backtest_job_metrics, backtest_jobs};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = backtest_jobs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct JobRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub clone_id: Uuid,
    pub kind: String,
    pub status: String,
    pub spec: serde_json::Value,
    pub bars_total: i64,
    pub bars_done: i64,
    pub attempts: i32,
    pub leased_at: Option<DateTime<Utc>>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub cancel_requested: bool,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = backtest_job_metrics, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MetricsRow {
    pub job_id: Uuid,
    pub owner_user_id: Uuid,
    pub result_hash: String,
    pub final_equity: Decimal,
    pub total_return_pct: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub trades: i32,
    pub metrics: serde_json::Value,
    pub walk_forward: Option<serde_json::Value>,
    pub consistency: Option<serde_json::Value>,
    pub consistency_score: Option<f64>,
    pub computed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = backtest_artifacts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ArtifactRow {
    pub job_id: Uuid,
    pub owner_user_id: Uuid,
    pub kind: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// An artifact without its body, for listings.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct ArtifactMeta {
    pub kind: String,
    pub content_type: String,
    pub size: i32,
    pub created_at: DateTime<Utc>,
}

/// The usage a day's row holds after a job was counted.
#[derive(Debug, Clone, Copy, Queryable)]
pub(crate) struct UsageDay {
    pub jobs: i32,
    pub bars: i64,
}

/// The day a usage row counts, as stored.
pub(crate) fn usage_day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}
