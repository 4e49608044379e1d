//! The only code that queries clones-deployment's tables. Callers hold the transaction (a
//! tenant's, or the system's cross-tenant one) and its row-level security scope.

use chrono::{DateTime, Utc};
use clones_db::schema::{clone_deployment_history as history, clone_deployments as deployments};
use diesel::prelude::*;
use uuid::Uuid;

use crate::models::{DeploymentRow, HistoryRow};

/// The clone's deployment, if it has one (and it is visible).
pub fn find(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<Option<DeploymentRow>> {
    deployments::table
        .filter(deployments::clone_id.eq(clone_id))
        .select(DeploymentRow::as_select())
        .first(conn)
        .optional()
}

/// The clone's deployment, locked for this transaction.
pub fn lock(conn: &mut PgConnection, clone_id: Uuid) -> QueryResult<Option<DeploymentRow>> {
    deployments::table
        .filter(deployments::clone_id.eq(clone_id))
        .select(DeploymentRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Inserts `row` unless the clone already has a deployment (one per clone).
pub fn insert_if_absent(conn: &mut PgConnection, row: &DeploymentRow) -> QueryResult<usize> {
    diesel::insert_into(deployments::table)
        .values(row)
        .on_conflict(deployments::clone_id)
        .do_nothing()
        .execute(conn)
}

/// Writes a transition's outcome onto the (locked) row.
pub fn update(conn: &mut PgConnection, row: &DeploymentRow) -> QueryResult<usize> {
    diesel::update(deployments::table.filter(deployments::id.eq(row.id)))
        .set((
            deployments::status.eq(&row.status),
            deployments::token_address.eq(&row.token_address),
            deployments::pool_address.eq(&row.pool_address),
            deployments::deposit_address.eq(&row.deposit_address),
            deployments::deposit_key.eq(&row.deposit_key),
            deployments::last_error.eq(&row.last_error),
            deployments::updated_at.eq(row.updated_at),
        ))
        .execute(conn)
}

/// The next history position of a (locked) deployment.
pub fn next_seq(conn: &mut PgConnection, deployment_id: Uuid) -> QueryResult<i32> {
    let last: Option<i32> = history::table
        .filter(history::deployment_id.eq(deployment_id))
        .select(diesel::dsl::max(history::seq))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

/// Appends a history row.
pub fn append(conn: &mut PgConnection, row: &HistoryRow) -> QueryResult<usize> {
    diesel::insert_into(history::table)
        .values(row)
        .execute(conn)
}

/// The time and position of history row `id` of a deployment, for a page cursor.
pub fn position(
    conn: &mut PgConnection,
    deployment_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<(DateTime<Utc>, i32)>> {
    history::table
        .filter(history::deployment_id.eq(deployment_id))
        .filter(history::id.eq(id))
        .select((history::created_at, history::seq))
        .first(conn)
        .optional()
}

/// Up to `limit` history rows of a deployment after position `after`, in order.
pub fn page(
    conn: &mut PgConnection,
    deployment_id: Uuid,
    after: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<HistoryRow>> {
    let mut query = history::table
        .filter(history::deployment_id.eq(deployment_id))
        .select(HistoryRow::as_select())
        .order(history::seq.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(history::seq.gt(after));
    }
    query.load(conn)
}
