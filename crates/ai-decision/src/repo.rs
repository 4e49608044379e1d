//! The only module of ai-decision that touches its tables. Every function runs inside the
//! caller's transaction, which acts for the owner (row-level security), or across tenants for
//! the cycle's set-based reads and writes.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    decision_action_executions as executions, decision_actions as actions,
    decision_artifacts as artifacts, decision_runs as runs,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use crate::models::{ActionRow, ArtifactRow, ExecutionRow, RunRow};

/// Writes a run with its actions and artifact. Returns false, writing nothing, when a run for
/// the same (account, slot) exists already: the caller then reads that one.
pub(crate) fn insert_run(
    conn: &mut PgConnection,
    run: &RunRow,
    action_rows: &[ActionRow],
    artifact: Option<&ArtifactRow>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(runs::table)
        .values(run)
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    if !action_rows.is_empty() {
        diesel::insert_into(actions::table)
            .values(action_rows)
            .execute(conn)?;
    }
    if let Some(artifact) = artifact {
        diesel::insert_into(artifacts::table)
            .values(artifact)
            .execute(conn)?;
    }
    Ok(true)
}

/// Rows of one statement at most (a run has 16 columns; PostgreSQL binds at most 65 535).
const CHUNK: usize = 1_000;

/// Writes many runs with their actions and artifacts, skipping (and leaving out of the answer)
/// each run whose (account, slot) already has one. Returns the ids of the runs written.
pub(crate) fn insert_runs(
    conn: &mut PgConnection,
    recorded: &[&(RunRow, Vec<ActionRow>, Option<ArtifactRow>)],
) -> QueryResult<std::collections::HashSet<Uuid>> {
    let mut written = std::collections::HashSet::new();
    for chunk in recorded.chunks(CHUNK) {
        let rows: Vec<&RunRow> = chunk.iter().map(|(run, _, _)| run).collect();
        let ids: Vec<Uuid> = diesel::insert_into(runs::table)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(runs::id)
            .get_results(conn)?;
        written.extend(ids);
    }
    let actions: Vec<&ActionRow> = recorded
        .iter()
        .filter(|(run, _, _)| written.contains(&run.id))
        .flat_map(|(_, actions, _)| actions)
        .collect();
    for chunk in actions.chunks(CHUNK) {
        diesel::insert_into(actions::table)
            .values(chunk.to_vec())
            .execute(conn)?;
    }
    let artifacts: Vec<&ArtifactRow> = recorded
        .iter()
        .filter(|(run, _, _)| written.contains(&run.id))
        .filter_map(|(_, _, artifact)| artifact.as_ref())
        .collect();
    for chunk in artifacts.chunks(CHUNK) {
        diesel::insert_into(artifacts::table)
            .values(chunk.to_vec())
            .execute(conn)?;
    }
    Ok(written)
}

/// Records many executions at once; an action already recorded is skipped.
pub(crate) fn insert_executions(conn: &mut PgConnection, rows: &[ExecutionRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(executions::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// (account, run) of the runs of `account_ids` at `slot`.
pub(crate) fn runs_at_slot(
    conn: &mut PgConnection,
    account_ids: &[Uuid],
    slot: DateTime<Utc>,
) -> QueryResult<Vec<(Uuid, Uuid)>> {
    runs::table
        .filter(runs::account_id.eq_any(account_ids))
        .filter(runs::slot.eq(slot))
        .select((runs::account_id.assume_not_null(), runs::id))
        .load(conn)
}

/// Records what prop-engine answered for an action; a second record of the same action is a
/// no-op (unique action id).
pub(crate) fn insert_execution(conn: &mut PgConnection, row: &ExecutionRow) -> QueryResult<()> {
    diesel::insert_into(executions::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(drop)
}

pub(crate) fn run_at_slot(
    conn: &mut PgConnection,
    account_id: Uuid,
    slot: DateTime<Utc>,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::account_id.eq(account_id))
        .filter(runs::slot.eq(slot))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn run_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
    run_id: Uuid,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .find(run_id)
        .filter(runs::clone_id.eq(clone_id))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// Runs of a clone, newest first, the page's rows plus one.
pub(crate) fn runs_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<RunRow>> {
    let mut query = runs::table
        .filter(runs::clone_id.eq(clone_id))
        .select(RunRow::as_select())
        .order((runs::started_at.desc(), runs::id.desc()))
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(runs::started_at, runs::id, *key));
    }
    query.load(conn)
}

pub(crate) fn actions_of(conn: &mut PgConnection, run_id: Uuid) -> QueryResult<Vec<ActionRow>> {
    actions::table
        .filter(actions::run_id.eq(run_id))
        .order(actions::seq.asc())
        .select(ActionRow::as_select())
        .load(conn)
}

pub(crate) fn executions_of(
    conn: &mut PgConnection,
    run_id: Uuid,
) -> QueryResult<Vec<ExecutionRow>> {
    executions::table
        .filter(executions::run_id.eq(run_id))
        .select(ExecutionRow::as_select())
        .load(conn)
}

pub(crate) fn artifact_of(
    conn: &mut PgConnection,
    run_id: Uuid,
) -> QueryResult<Option<ArtifactRow>> {
    artifacts::table
        .find(run_id)
        .select(ArtifactRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn run_of_clone_any(
    conn: &mut PgConnection,
    run_id: Uuid,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .find(run_id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}
