//! Rows of the tables clones-deployment owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{clone_deployment_history, clone_deployments, deployment_transactions};
use diesel::prelude::*;
use uuid::Uuid;

/// A `clone_deployments` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_deployments)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct DeploymentRow {
    pub id: Uuid,
    pub clone_id: Uuid,
    pub owner_user_id: Uuid,
    pub status: String,
    pub token_address: Option<String>,
    pub pool_address: Option<String>,
    pub deposit_address: Option<String>,
    pub deposit_key: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A `clone_deployment_history` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clone_deployment_history)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct HistoryRow {
    pub id: Uuid,
    pub deployment_id: Uuid,
    pub owner_user_id: Uuid,
    pub seq: i32,
    pub actor: String,
    pub actor_user_id: Option<Uuid>,
    pub event: String,
    pub from_status: String,
    pub to_status: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A `deployment_transactions` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deployment_transactions)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct TransactionRow {
    pub id: Uuid,
    pub deployment_id: Uuid,
    pub owner_user_id: Uuid,
    pub step: String,
    pub tx_hash: String,
    pub status: String,
    pub confirmations: i64,
    pub contract_address: Option<String>,
    pub error: Option<String>,
    pub next_check_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}
