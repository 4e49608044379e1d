//! Rows of the tables ai-decision owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    decision_action_executions, decision_actions, decision_artifacts, decision_runs,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decision_runs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RunRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub context: String,
    pub reference_id: Option<Uuid>,
    pub slot: DateTime<Utc>,
    pub strategy_version: Option<i32>,
    pub strategy_fingerprint: Option<String>,
    pub model: String,
    pub adapter: String,
    pub status: String,
    pub reason_code: Option<String>,
    pub reason_detail: Option<String>,
    pub started_at: DateTime<Utc>,
    pub latency_ms: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decision_actions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ActionRow {
    pub id: String,
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub seq: i32,
    pub asset: String,
    pub instrument: String,
    pub kind: String,
    pub side: String,
    pub size: Decimal,
    pub reduce_only: bool,
    pub requested_size: Option<serde_json::Value>,
    pub reference_price: Decimal,
    pub risk: serde_json::Value,
    pub source: String,
    pub rationale: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decision_action_executions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ExecutionRow {
    pub id: Uuid,
    pub action_id: String,
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub account_id: Uuid,
    pub prop_order_id: Uuid,
    pub order_status: String,
    pub rejection_code: Option<String>,
    pub filled_size: Decimal,
    pub executed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decision_artifacts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ArtifactRow {
    pub run_id: Uuid,
    pub owner_user_id: Uuid,
    pub model: String,
    pub prompt_hash: String,
    pub input_packet: serde_json::Value,
    pub raw_output: Option<String>,
    pub latency_ms: i64,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub cost: Option<Decimal>,
    pub created_at: DateTime<Utc>,
}
