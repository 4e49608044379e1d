//! Rows of the tables the marketplace owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    strategy_evaluations, strategy_lineage, strategy_status_history, user_strategies,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_strategies, check_for_backend(diesel::pg::Pg))]
pub(crate) struct StrategyRow {
    pub id: Uuid,
    pub uploader_user_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub graph: serde_json::Value,
    pub fingerprint: String,
    pub asset_type: String,
    pub status: String,
    pub score: Option<f64>,
    pub robustness: Option<f64>,
    pub generation: i32,
    pub origin: String,
    pub duplicate_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = strategy_status_history, check_for_backend(diesel::pg::Pg))]
pub(crate) struct HistoryRow {
    pub id: Uuid,
    pub strategy_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub event: String,
    pub reason: String,
    pub actor_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = strategy_lineage, check_for_backend(diesel::pg::Pg))]
pub(crate) struct LineageRow {
    pub id: Uuid,
    pub parent_id: Uuid,
    pub child_id: Uuid,
    pub mutation_type: String,
    pub mutation_detail: String,
    pub generation: i32,
    pub royalty_percent_parent: Decimal,
    pub royalty_percent_child: Decimal,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = strategy_evaluations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EvaluationRow {
    pub strategy_id: Uuid,
    pub kind: String,
    pub metrics: serde_json::Value,
    pub behaviour: Vec<Option<f64>>,
    pub result_hash: String,
    pub evaluated_at: DateTime<Utc>,
}
