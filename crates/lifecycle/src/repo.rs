//! The only code that queries lifecycle's tables. Functions run on a connection inside the
//! caller's transaction; the caller chooses the tenant or cross-tenant scope.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    arena_clone_memberships as memberships, audition_refund_authorizations as refunds,
    audition_rule_sets as rule_sets, audition_run_evaluations as evaluations,
    audition_run_events as events, audition_runs as runs, promotion_queue_entries as entries,
};
use clones_kernel::PageRequest;
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use crate::models::{
    EntryRow, EvaluationRow, MembershipRow, RefundRow, RuleSetRow, RunEventRow, RunRow,
};
use crate::rules::EvalState;
use crate::status::{MembershipStatus, SkipReason};
use crate::views::{AuditionStatus, PromotionStatus};

pub(crate) fn rule_sets(conn: &mut PgConnection) -> QueryResult<Vec<RuleSetRow>> {
    rule_sets::table
        .order(rule_sets::code.asc())
        .select(RuleSetRow::as_select())
        .load(conn)
}

pub(crate) fn rule_set(conn: &mut PgConnection, code: &str) -> QueryResult<Option<RuleSetRow>> {
    rule_sets::table
        .find(code)
        .select(RuleSetRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts a run and its evaluation row unless a unique constraint already holds a run like
/// it; true when inserted.
pub(crate) fn insert_run(
    conn: &mut PgConnection,
    row: &RunRow,
    evaluation: &EvaluationRow,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(runs::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)?
        == 1;
    if inserted {
        diesel::insert_into(evaluations::table)
            .values(evaluation)
            .execute(conn)?;
    }
    Ok(inserted)
}

pub(crate) fn evaluation_of(
    conn: &mut PgConnection,
    run_id: Uuid,
) -> QueryResult<Option<EvaluationRow>> {
    evaluations::table
        .find(run_id)
        .select(EvaluationRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn evaluations_of(
    conn: &mut PgConnection,
    run_ids: &[Uuid],
) -> QueryResult<Vec<EvaluationRow>> {
    evaluations::table
        .filter(evaluations::run_id.eq_any(run_ids))
        .select(EvaluationRow::as_select())
        .load(conn)
}

pub(crate) fn run_by_attempt(
    conn: &mut PgConnection,
    purchase_id: Uuid,
    attempt: i32,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::purchase_id.eq(purchase_id))
        .filter(runs::attempt.eq(attempt))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn last_attempt(conn: &mut PgConnection, purchase_id: Uuid) -> QueryResult<Option<i32>> {
    runs::table
        .filter(runs::purchase_id.eq(purchase_id))
        .select(max(runs::attempt))
        .first(conn)
}

pub(crate) fn running_run_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::clone_id.eq(clone_id))
        .filter(runs::status.eq(AuditionStatus::Running.as_str()))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// The clone's latest run: the last created, the later attempt among runs created at once.
pub(crate) fn latest_run_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::clone_id.eq(clone_id))
        .order((runs::created_at.desc(), runs::attempt.desc()))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// A page of the clone's runs, newest first by (creation time, id).
pub(crate) fn runs_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<RunRow>> {
    let mut query = runs::table.filter(runs::clone_id.eq(clone_id)).into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(runs::created_at, runs::id, *key));
    }
    query
        .order((runs::created_at.desc(), runs::id.desc()))
        .limit(page.fetch_limit())
        .select(RunRow::as_select())
        .load(conn)
}

pub(crate) fn find_run(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<RunRow>> {
    runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// Every attempt of a purchase, locked, in attempt order (the one lock order every writer of
/// several attempts uses).
pub(crate) fn lock_runs_of_purchase(
    conn: &mut PgConnection,
    purchase_id: Uuid,
) -> QueryResult<Vec<RunRow>> {
    runs::table
        .filter(runs::purchase_id.eq(purchase_id))
        .order(runs::attempt.asc())
        .for_update()
        .select(RunRow::as_select())
        .load(conn)
}

pub(crate) fn lock_run(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<RunRow>> {
    runs::table
        .find(id)
        .for_update()
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// Leases up to `limit` running runs whose lease is free, least recently evaluated first.
/// Rows another worker holds locked are skipped, not waited for.
pub(crate) fn lease_running(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(RunRow, EvaluationRow)>> {
    let ids: Vec<Uuid> = evaluations::table
        .inner_join(runs::table)
        .filter(runs::status.eq(AuditionStatus::Running.as_str()))
        .filter(
            evaluations::lease_expires_at
                .is_null()
                .or(evaluations::lease_expires_at.lt(now)),
        )
        .order((
            evaluations::evaluated_at.asc().nulls_first(),
            evaluations::run_id.asc(),
        ))
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(evaluations::run_id)
        .load(conn)?;
    diesel::update(evaluations::table.filter(evaluations::run_id.eq_any(&ids)))
        .set(evaluations::lease_expires_at.eq(until))
        .execute(conn)?;
    runs::table
        .inner_join(evaluations::table)
        .filter(runs::id.eq_any(&ids))
        .select((RunRow::as_select(), EvaluationRow::as_select()))
        .load(conn)
}

/// Releases the run's lease if it is still the one `held` (another worker may have taken the
/// run since an expired lease).
pub(crate) fn release_run(
    conn: &mut PgConnection,
    id: Uuid,
    held: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        evaluations::table
            .find(id)
            .filter(evaluations::lease_expires_at.eq(held)),
    )
    .set(evaluations::lease_expires_at.eq(None::<DateTime<Utc>>))
    .execute(conn)
    .map(drop)
}

/// Stores the evaluation state and releases the lease.
pub(crate) fn save_evaluation(
    conn: &mut PgConnection,
    id: Uuid,
    state: &EvalState,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let trading_days = i32::try_from(state.trading_days).unwrap_or(i32::MAX);
    diesel::update(evaluations::table.find(id))
        .set((
            evaluations::last_snapshot_at.eq(state.last_snapshot_at),
            evaluations::last_fill_at.eq(state.last_fill.map(|fill| fill.at)),
            evaluations::last_fill_id.eq(state.last_fill.map(|fill| fill.id)),
            evaluations::trading_day.eq(state.trading_day),
            evaluations::day_start_value.eq(state.day_start_value),
            evaluations::peak_value.eq(state.peak_value),
            evaluations::last_fill_day.eq(state.last_fill_day),
            evaluations::trading_days.eq(trading_days),
            evaluations::latest_equity.eq(state.latest_equity),
            evaluations::latest_cash.eq(state.latest_cash),
            evaluations::evaluated_at.eq(Some(now)),
            evaluations::lease_expires_at.eq(None::<DateTime<Utc>>),
            evaluations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn set_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    rule: Option<&str>,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(runs::table.find(id))
        .set((
            runs::status.eq(status),
            runs::failure_rule.eq(rule),
            runs::failure_detail.eq(detail),
            runs::ended_at.eq(Some(now)),
            runs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Voids a run; `ended_at` is the end of one that had already ended. A failed run keeps its
/// failure rule for the record.
pub(crate) fn void_run(
    conn: &mut PgConnection,
    id: Uuid,
    ended_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(runs::table.find(id))
        .set((
            runs::status.eq(AuditionStatus::Voided.as_str()),
            runs::ended_at.eq(Some(ended_at)),
            runs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn insert_event(conn: &mut PgConnection, row: &RunEventRow) -> QueryResult<()> {
    diesel::insert_into(events::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn events_of(conn: &mut PgConnection, run_id: Uuid) -> QueryResult<Vec<RunEventRow>> {
    events::table
        .filter(events::run_id.eq(run_id))
        .order(events::seq.asc())
        .select(RunEventRow::as_select())
        .load(conn)
}

/// Inserts a refund authorization unless the purchase has one; true when inserted.
pub(crate) fn insert_refund(conn: &mut PgConnection, row: &RefundRow) -> QueryResult<bool> {
    diesel::insert_into(refunds::table)
        .values(row)
        .on_conflict(refunds::purchase_id)
        .do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

pub(crate) fn refund_of_purchase(
    conn: &mut PgConnection,
    purchase_id: Uuid,
) -> QueryResult<Option<RefundRow>> {
    refunds::table
        .filter(refunds::purchase_id.eq(purchase_id))
        .select(RefundRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn refunds(conn: &mut PgConnection, page: &PageRequest) -> QueryResult<Vec<RefundRow>> {
    let mut query = refunds::table.into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(refunds::created_at, refunds::id, *key));
    }
    query
        .order((refunds::created_at.desc(), refunds::id.desc()))
        .limit(page.fetch_limit())
        .select(RefundRow::as_select())
        .load(conn)
}

/// Queues a passed run for promotion, once per run.
pub(crate) fn insert_entry(conn: &mut PgConnection, row: &EntryRow) -> QueryResult<bool> {
    diesel::insert_into(entries::table)
        .values(row)
        .on_conflict(entries::run_id)
        .do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

pub(crate) fn entry_of_clone(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<EntryRow>> {
    entries::table
        .filter(entries::clone_id.eq(clone_id))
        .order((entries::created_at.desc(), entries::id.desc()))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()
}

/// Leases up to `limit` queued entries, least recently attempted first (SKIP LOCKED).
pub(crate) fn lease_queued(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    let ids: Vec<Uuid> = entries::table
        .filter(entries::status.eq(PromotionStatus::Queued.as_str()))
        .filter(
            entries::lease_expires_at
                .is_null()
                .or(entries::lease_expires_at.lt(now)),
        )
        .order((
            entries::last_attempt_at.asc().nulls_first(),
            entries::id.asc(),
        ))
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(entries::id)
        .load(conn)?;
    diesel::update(entries::table.filter(entries::id.eq_any(&ids)))
        .set(entries::lease_expires_at.eq(until))
        .returning(EntryRow::as_returning())
        .get_results(conn)
}

pub(crate) fn lock_entry(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<EntryRow>> {
    entries::table
        .find(id)
        .for_update()
        .select(EntryRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn skip_entry(
    conn: &mut PgConnection,
    id: Uuid,
    reason: Option<SkipReason>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(entries::table.find(id))
        .set((
            entries::last_skip_reason.eq(reason.map(SkipReason::as_str)),
            entries::last_attempt_at.eq(Some(now)),
            entries::lease_expires_at.eq(None::<DateTime<Utc>>),
            entries::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub(crate) fn admit_entry(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(entries::table.find(id))
        .set((
            entries::status.eq(PromotionStatus::Admitted.as_str()),
            entries::last_skip_reason.eq(None::<String>),
            entries::last_attempt_at.eq(Some(now)),
            entries::admitted_at.eq(Some(now)),
            entries::lease_expires_at.eq(None::<DateTime<Utc>>),
            entries::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Inserts a membership unless the entry or an active membership of the clone exists.
pub(crate) fn insert_membership(conn: &mut PgConnection, row: &MembershipRow) -> QueryResult<bool> {
    diesel::insert_into(memberships::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

pub(crate) fn active_membership(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<MembershipRow>> {
    memberships::table
        .filter(memberships::clone_id.eq(clone_id))
        .filter(memberships::status.eq(MembershipStatus::Active.as_str()))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn latest_membership(
    conn: &mut PgConnection,
    clone_id: Uuid,
) -> QueryResult<Option<MembershipRow>> {
    memberships::table
        .filter(memberships::clone_id.eq(clone_id))
        .order((memberships::joined_at.desc(), memberships::id.desc()))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

/// Running runs whose window contains `now`, oldest first.
/// Running runs inside their window with an id after `after`, by id.
pub(crate) fn trading_runs(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<RunRow>> {
    runs::table
        .filter(runs::status.eq(AuditionStatus::Running.as_str()))
        .filter(runs::window_start.le(now))
        .filter(runs::window_end.gt(now))
        .filter(runs::id.gt(after.unwrap_or(Uuid::nil())))
        .order(runs::id.asc())
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)
}

/// Active memberships with an id after `after`, by id.
pub(crate) fn active_memberships(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<MembershipRow>> {
    memberships::table
        .filter(memberships::status.eq(MembershipStatus::Active.as_str()))
        .filter(memberships::id.gt(after.unwrap_or(Uuid::nil())))
        .order(memberships::id.asc())
        .limit(limit)
        .select(MembershipRow::as_select())
        .load(conn)
}

/// Which competition fact a [`competition_rows`] row reports.
pub(crate) const LATEST_AUDITION: &str = "audition";
/// A queued or admitted Promotion Queue entry (the row's status is the entry's).
pub(crate) const PROMOTION: &str = "promotion";
/// An active Arena membership.
pub(crate) const ARENA: &str = "arena";

/// The competition facts of `clone_ids` in one statement, as (clone, fact, status) rows: each
/// clone's latest audition run ([`LATEST_AUDITION`], by creation time then attempt), its
/// queued or admitted Promotion Queue entries ([`PROMOTION`]) and its active Arena membership
/// ([`ARENA`]).
pub(crate) fn competition_rows(
    conn: &mut PgConnection,
    clone_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String, String)>> {
    let latest = runs::table
        .filter(runs::clone_id.eq_any(clone_ids))
        .distinct_on(runs::clone_id)
        .order((
            runs::clone_id.asc(),
            runs::created_at.desc(),
            runs::attempt.desc(),
        ))
        .select((
            runs::clone_id,
            LATEST_AUDITION.into_sql::<diesel::sql_types::Text>(),
            runs::status,
        ));
    let promoted = entries::table
        .filter(entries::clone_id.eq_any(clone_ids))
        .filter(entries::status.eq_any([
            PromotionStatus::Queued.as_str(),
            PromotionStatus::Admitted.as_str(),
        ]))
        .select((
            entries::clone_id,
            PROMOTION.into_sql::<diesel::sql_types::Text>(),
            entries::status,
        ));
    let arena = memberships::table
        .filter(memberships::clone_id.eq_any(clone_ids))
        .filter(memberships::status.eq(MembershipStatus::Active.as_str()))
        .select((
            memberships::clone_id,
            ARENA.into_sql::<diesel::sql_types::Text>(),
            memberships::status,
        ));
    latest.union_all(promoted).union_all(arena).load(conn)
}
