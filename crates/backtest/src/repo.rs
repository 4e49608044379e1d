//! The only module that touches the backtest tables.

use chrono::{DateTime, NaiveDate, Utc};
use clones_db::keyset;
use clones_db::schema::{
    backtest_artifacts, backtest_job_metrics, backtest_jobs, backtest_usage_days,
};
use clones_kernel::PageRequest;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel::upsert::excluded;
use uuid::Uuid;

use crate::models::{ArtifactMeta, ArtifactRow, JobRow, MetricsRow, UsageDay};

pub(crate) const QUEUED: &str = "queued";
pub(crate) const RUNNING: &str = "running";
pub(crate) const SUCCEEDED: &str = "succeeded";
pub(crate) const FAILED: &str = "failed";
pub(crate) const CANCELLED: &str = "cancelled";

pub(crate) fn insert_job(conn: &mut PgConnection, row: &JobRow) -> QueryResult<()> {
    diesel::insert_into(backtest_jobs::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The user's jobs that are queued or running (row-level security scopes it to the caller).
pub(crate) fn open_jobs(conn: &mut PgConnection, owner: Uuid) -> QueryResult<i64> {
    backtest_jobs::table
        .filter(backtest_jobs::owner_user_id.eq(owner))
        .filter(backtest_jobs::status.eq_any([QUEUED, RUNNING]))
        .count()
        .get_result(conn)
}

/// Adds one job of `bars` bars to the clone's usage of `day`, returning the day's totals.
pub(crate) fn count_usage(
    conn: &mut PgConnection,
    owner: Uuid,
    clone_id: Uuid,
    day: NaiveDate,
    bars: i64,
) -> QueryResult<UsageDay> {
    diesel::insert_into(backtest_usage_days::table)
        .values((
            backtest_usage_days::owner_user_id.eq(owner),
            backtest_usage_days::clone_id.eq(clone_id),
            backtest_usage_days::day.eq(day),
            backtest_usage_days::jobs.eq(1),
            backtest_usage_days::bars.eq(bars),
        ))
        .on_conflict((
            backtest_usage_days::owner_user_id,
            backtest_usage_days::clone_id,
            backtest_usage_days::day,
        ))
        .do_update()
        .set((
            backtest_usage_days::jobs.eq(backtest_usage_days::jobs + 1),
            backtest_usage_days::bars
                .eq(backtest_usage_days::bars + excluded(backtest_usage_days::bars)),
        ))
        .returning((backtest_usage_days::jobs, backtest_usage_days::bars))
        .get_result(conn)
}

/// One page of the clone's jobs, newest first by (creation time, id).
pub(crate) fn jobs_page(
    conn: &mut PgConnection,
    clone_id: Uuid,
    page: &PageRequest,
) -> QueryResult<Vec<JobRow>> {
    let mut query = backtest_jobs::table
        .filter(backtest_jobs::clone_id.eq(clone_id))
        .select(JobRow::as_select())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            backtest_jobs::created_at,
            backtest_jobs::id,
            *key,
        ));
    }
    query
        .order((backtest_jobs::created_at.desc(), backtest_jobs::id.desc()))
        .limit(page.fetch_limit())
        .load(conn)
}

pub(crate) fn find_job(
    conn: &mut PgConnection,
    clone_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<JobRow>> {
    backtest_jobs::table
        .find(id)
        .filter(backtest_jobs::clone_id.eq(clone_id))
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn lock_job(
    conn: &mut PgConnection,
    clone_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<JobRow>> {
    backtest_jobs::table
        .find(id)
        .filter(backtest_jobs::clone_id.eq(clone_id))
        .for_update()
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

/// Cancels a queued job at once.
pub(crate) fn cancel_queued(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<JobRow> {
    diesel::update(backtest_jobs::table.find(id))
        .set((
            backtest_jobs::status.eq(CANCELLED),
            backtest_jobs::cancel_requested.eq(true),
            backtest_jobs::finished_at.eq(Some(now)),
        ))
        .returning(JobRow::as_returning())
        .get_result(conn)
}

/// Asks the worker running a job to stop.
pub(crate) fn request_cancel(conn: &mut PgConnection, id: Uuid) -> QueryResult<JobRow> {
    diesel::update(backtest_jobs::table.find(id))
        .set(backtest_jobs::cancel_requested.eq(true))
        .returning(JobRow::as_returning())
        .get_result(conn)
}

pub(crate) fn metrics_of(conn: &mut PgConnection, job_id: Uuid) -> QueryResult<Option<MetricsRow>> {
    backtest_job_metrics::table
        .find(job_id)
        .select(MetricsRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn metrics_of_jobs(
    conn: &mut PgConnection,
    job_ids: &[Uuid],
) -> QueryResult<Vec<MetricsRow>> {
    backtest_job_metrics::table
        .filter(backtest_job_metrics::job_id.eq_any(job_ids))
        .select(MetricsRow::as_select())
        .load(conn)
}

pub(crate) fn artifact_list(
    conn: &mut PgConnection,
    job_id: Uuid,
) -> QueryResult<Vec<ArtifactMeta>> {
    backtest_artifacts::table
        .filter(backtest_artifacts::job_id.eq(job_id))
        .order(backtest_artifacts::kind.asc())
        .select((
            backtest_artifacts::kind,
            backtest_artifacts::content_type,
            sql::<Integer>("octet_length(body)"),
            backtest_artifacts::created_at,
        ))
        .load(conn)
}

pub(crate) fn artifact(
    conn: &mut PgConnection,
    job_id: Uuid,
    kind: &str,
) -> QueryResult<Option<ArtifactRow>> {
    backtest_artifacts::table
        .find((job_id, kind))
        .select(ArtifactRow::as_select())
        .first(conn)
        .optional()
}

// Worker side: every query below runs in a cross-tenant transaction.

/// Returns expired leases to the queue while attempts remain, fails the jobs that have none,
/// and ends cancelled ones; answers (requeued, failed, cancelled).
pub(crate) fn expire_leases(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    max_attempts: i32,
) -> QueryResult<(usize, usize, usize)> {
    let expired = backtest_jobs::table
        .filter(backtest_jobs::status.eq(RUNNING))
        .filter(backtest_jobs::lease_expires_at.lt(now));
    let cancelled = diesel::update(expired.filter(backtest_jobs::cancel_requested.eq(true)))
        .set((
            backtest_jobs::status.eq(CANCELLED),
            backtest_jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            backtest_jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    let failed = diesel::update(expired.filter(backtest_jobs::attempts.ge(max_attempts)))
        .set((
            backtest_jobs::status.eq(FAILED),
            backtest_jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            backtest_jobs::error_code.eq(Some(ATTEMPTS_EXHAUSTED)),
            backtest_jobs::error_detail.eq(Some(format!(
                "the lease of attempt {max_attempts} of {max_attempts} expired before the job finished"
            ))),
            backtest_jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    let requeued = diesel::update(expired)
        .set((
            backtest_jobs::status.eq(QUEUED),
            backtest_jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            backtest_jobs::leased_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    Ok((requeued, failed, cancelled))
}

/// The code of a job whose every attempt ended without a result.
pub(crate) const ATTEMPTS_EXHAUSTED: &str = "backtest_attempts_exhausted";

/// Leases up to `limit` queued jobs, oldest first (SKIP LOCKED): each becomes `running` with
/// its attempt counted and a lease until `until`.
pub(crate) fn lease_queued(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<JobRow>> {
    let ids: Vec<Uuid> = backtest_jobs::table
        .filter(backtest_jobs::status.eq(QUEUED))
        .order((backtest_jobs::created_at.asc(), backtest_jobs::id.asc()))
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(backtest_jobs::id)
        .load(conn)?;
    diesel::update(backtest_jobs::table.filter(backtest_jobs::id.eq_any(&ids)))
        .set((
            backtest_jobs::status.eq(RUNNING),
            backtest_jobs::attempts.eq(backtest_jobs::attempts + 1),
            backtest_jobs::leased_at.eq(Some(now)),
            backtest_jobs::lease_expires_at.eq(Some(until)),
            backtest_jobs::bars_done.eq(0),
        ))
        .returning(JobRow::as_returning())
        .get_results(conn)
}

/// Records progress and extends the lease; `None` when the attempt lost its lease, else
/// whether a cancel was asked for.
pub(crate) fn heartbeat(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    done: i64,
    total: i64,
    until: DateTime<Utc>,
) -> QueryResult<Option<bool>> {
    diesel::update(
        backtest_jobs::table
            .find(id)
            .filter(backtest_jobs::attempts.eq(attempt))
            .filter(backtest_jobs::status.eq(RUNNING)),
    )
    .set((
        backtest_jobs::bars_done.eq(done),
        backtest_jobs::bars_total.eq(total),
        backtest_jobs::lease_expires_at.eq(Some(until)),
    ))
    .returning(backtest_jobs::cancel_requested)
    .get_result(conn)
    .optional()
}

/// The job, locked, while `attempt` still holds its lease.
pub(crate) fn lock_held(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: i32,
) -> QueryResult<Option<JobRow>> {
    backtest_jobs::table
        .find(id)
        .filter(backtest_jobs::attempts.eq(attempt))
        .filter(backtest_jobs::status.eq(RUNNING))
        .for_update()
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

/// Ends a job (locked by [`lock_held`]) with `status`.
pub(crate) fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    status: &'static str,
    error: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(backtest_jobs::table.find(id))
        .set((
            backtest_jobs::status.eq(status),
            backtest_jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
            backtest_jobs::error_code.eq(error.map(|(code, _)| code.to_string())),
            backtest_jobs::error_detail
                .eq(error.map(|(_, detail)| detail.chars().take(2000).collect::<String>())),
            backtest_jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(drop)
}

/// A succeeded job's progress: every bar done.
pub(crate) fn complete_progress(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(backtest_jobs::table.find(id))
        .set(backtest_jobs::bars_done.eq(backtest_jobs::bars_total))
        .execute(conn)
        .map(drop)
}

/// Returns the attempt's job to the queue (a dependency failed); false when the attempt no
/// longer held the lease.
pub(crate) fn release(conn: &mut PgConnection, id: Uuid, attempt: i32) -> QueryResult<bool> {
    diesel::update(
        backtest_jobs::table
            .find(id)
            .filter(backtest_jobs::attempts.eq(attempt))
            .filter(backtest_jobs::status.eq(RUNNING)),
    )
    .set((
        backtest_jobs::status.eq(QUEUED),
        backtest_jobs::lease_expires_at.eq(None::<DateTime<Utc>>),
        backtest_jobs::leased_at.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .map(|updated| updated == 1)
}

pub(crate) fn insert_metrics(conn: &mut PgConnection, row: &MetricsRow) -> QueryResult<()> {
    diesel::insert_into(backtest_job_metrics::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn insert_artifacts(conn: &mut PgConnection, rows: &[ArtifactRow]) -> QueryResult<()> {
    diesel::insert_into(backtest_artifacts::table)
        .values(rows)
        .execute(conn)
        .map(drop)
}

/// Deletes artifacts created before `before`; answers how many.
pub(crate) fn delete_artifacts_before(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(backtest_artifacts::table.filter(backtest_artifacts::created_at.lt(before)))
        .execute(conn)
}
