//! The only code that queries clones-deployment's tables. Callers hold the transaction (a
//! tenant's, or the system's cross-tenant one) and its row-level security scope.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    clone_deployment_history as history, clone_deployments as deployments,
    deployment_transactions as transactions,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::models::{DeploymentRow, HistoryRow, TransactionRow};

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

/// Deployment `id`, locked for this transaction.
pub fn lock_by_id(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DeploymentRow>> {
    deployments::table
        .find(id)
        .select(DeploymentRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Inserts a submitted transaction unless the deployment already has that hash.
pub fn insert_transaction(conn: &mut PgConnection, row: &TransactionRow) -> QueryResult<usize> {
    diesel::insert_into(transactions::table)
        .values(row)
        .on_conflict((transactions::deployment_id, transactions::tx_hash))
        .do_nothing()
        .execute(conn)
}

/// The deployment's submission of `tx_hash`.
pub fn find_transaction(
    conn: &mut PgConnection,
    deployment_id: Uuid,
    tx_hash: &str,
) -> QueryResult<Option<TransactionRow>> {
    transactions::table
        .filter(transactions::deployment_id.eq(deployment_id))
        .filter(transactions::tx_hash.eq(tx_hash))
        .select(TransactionRow::as_select())
        .first(conn)
        .optional()
}

/// Submission `id`, unlocked.
pub fn transaction(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<TransactionRow>> {
    transactions::table
        .find(id)
        .select(TransactionRow::as_select())
        .first(conn)
        .optional()
}

/// Submission `id`, locked for this transaction.
pub fn lock_transaction(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<TransactionRow>> {
    transactions::table
        .find(id)
        .select(TransactionRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Leases up to `limit` pending submissions due at `now` until `until`, skipping those another
/// worker holds, with their deployments.
pub fn lease_due_transactions(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(TransactionRow, DeploymentRow)>> {
    let due: Vec<TransactionRow> = transactions::table
        .filter(transactions::status.eq("pending"))
        .filter(transactions::next_check_at.le(now))
        .order((transactions::next_check_at.asc(), transactions::id.asc()))
        .limit(limit)
        .select(TransactionRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)?;
    let mut leased = Vec::with_capacity(due.len());
    for mut row in due {
        diesel::update(transactions::table.find(row.id))
            .set(transactions::next_check_at.eq(until))
            .execute(conn)?;
        row.next_check_at = until;
        let deployment = deployments::table
            .find(row.deployment_id)
            .select(DeploymentRow::as_select())
            .first(conn)?;
        leased.push((row, deployment));
    }
    Ok(leased)
}

/// Writes a submission's check or settlement.
pub fn update_transaction(conn: &mut PgConnection, row: &TransactionRow) -> QueryResult<usize> {
    diesel::update(transactions::table.find(row.id))
        .set((
            transactions::status.eq(&row.status),
            transactions::confirmations.eq(row.confirmations),
            transactions::contract_address.eq(&row.contract_address),
            transactions::error.eq(&row.error),
            transactions::next_check_at.eq(row.next_check_at),
            transactions::settled_at.eq(row.settled_at),
        ))
        .execute(conn)
}
