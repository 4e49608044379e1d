//! The `worker_heartbeats` table: one row per worker, rewritten at the start and end of every
//! cycle, and read back as health with staleness.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_db::schema::worker_heartbeats::{self, dsl as hb};
use clones_db::{Db, DbError};
use clones_kernel::Clock;
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::Serialize;

/// The longest error text kept on a heartbeat row.
const MAX_ERROR_CHARS: usize = 2_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = worker_heartbeats, check_for_backend(diesel::pg::Pg))]
struct HeartbeatRow {
    worker_name: String,
    instance_id: String,
    status: String,
    interval_ms: i64,
    last_started_at: DateTime<Utc>,
    last_completed_at: Option<DateTime<Utc>>,
    last_succeeded_at: Option<DateTime<Utc>>,
    last_error_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    last_latency_ms: Option<i64>,
    last_items: Option<i64>,
    cycles_total: i64,
    failures_total: i64,
    items_total: i64,
    consecutive_errors: i32,
}

/// One worker's health as reported by the internal health route.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerHealth {
    /// The worker's name.
    pub worker: String,
    /// The process instance that wrote the row last.
    pub instance_id: String,
    /// `running`, `succeeded` or `failed`: the latest cycle's state.
    pub status: String,
    /// The configured interval between cycles, in milliseconds.
    pub interval_ms: i64,
    /// True when no cycle completed within the allowed number of intervals.
    pub stale: bool,
    /// When the latest cycle started.
    pub last_started_at: DateTime<Utc>,
    /// When the latest cycle finished.
    pub last_completed_at: Option<DateTime<Utc>>,
    /// When a cycle last succeeded.
    pub last_succeeded_at: Option<DateTime<Utc>>,
    /// When a cycle last failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The latest failure's message.
    pub last_error: Option<String>,
    /// How long the latest finished cycle took, in milliseconds.
    pub last_latency_ms: Option<i64>,
    /// Items the latest finished cycle processed.
    pub last_items: Option<i64>,
    /// Cycles finished since the row was created.
    pub cycles_total: i64,
    /// Cycles that failed.
    pub failures_total: i64,
    /// Items processed over all cycles.
    pub items_total: i64,
    /// Failures since the last success.
    pub consecutive_errors: i32,
    /// Running totals of the named events the worker reports (a mirror's
    /// `decisions_placed`, `wakeups`, …), by event.
    pub events: BTreeMap<String, i64>,
}

/// Every worker's health.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkersHealth {
    /// True when no worker is stale or failing.
    pub healthy: bool,
    /// A worker is stale after this many intervals without a completed cycle.
    pub stale_after_intervals: u32,
    /// Workers, by name.
    pub workers: Vec<WorkerHealth>,
}

/// Heartbeat reads and writes.
#[async_trait]
pub trait HeartbeatService: Send + Sync {
    /// Records that a cycle started.
    async fn cycle_started(
        &self,
        worker: &str,
        instance_id: &str,
        interval: std::time::Duration,
    ) -> Result<(), DbError>;

    /// Records a finished cycle: `error` is `None` on success.
    async fn cycle_finished(
        &self,
        worker: &str,
        latency: std::time::Duration,
        items: u64,
        error: Option<String>,
    ) -> Result<(), DbError>;

    /// Adds a cycle's named event counts to the worker's running totals.
    async fn add_events(&self, worker: &str, events: &[(&'static str, u64)])
    -> Result<(), DbError>;

    /// Every worker's health; stale after `stale_after_intervals` intervals without a
    /// completed cycle.
    async fn health(&self, stale_after_intervals: u32) -> Result<WorkersHealth, DbError>;
}

/// [`HeartbeatService`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgHeartbeatService {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl PgHeartbeatService {
    /// A service over `db`, reading time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl HeartbeatService for PgHeartbeatService {
    async fn cycle_started(
        &self,
        worker: &str,
        instance_id: &str,
        interval: std::time::Duration,
    ) -> Result<(), DbError> {
        let now = self.clock.now();
        let values = (
            hb::worker_name.eq(worker.to_string()),
            hb::instance_id.eq(instance_id.to_string()),
            hb::status.eq("running"),
            hb::interval_ms.eq(millis(interval).max(1)),
            hb::last_started_at.eq(now),
        );
        self.db
            .run(move |conn| {
                diesel::insert_into(hb::worker_heartbeats)
                    .values(values)
                    .on_conflict(hb::worker_name)
                    .do_update()
                    .set((
                        hb::instance_id.eq(excluded(hb::instance_id)),
                        hb::status.eq(excluded(hb::status)),
                        hb::interval_ms.eq(excluded(hb::interval_ms)),
                        hb::last_started_at.eq(excluded(hb::last_started_at)),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn cycle_finished(
        &self,
        worker: &str,
        latency: std::time::Duration,
        items: u64,
        error: Option<String>,
    ) -> Result<(), DbError> {
        let now = self.clock.now();
        let worker = worker.to_string();
        let latency = millis(latency);
        let items = i64::try_from(items).unwrap_or(i64::MAX);
        self.db
            .run(move |conn| {
                let row = hb::worker_heartbeats.find(&worker);
                let common = (
                    hb::last_completed_at.eq(now),
                    hb::last_latency_ms.eq(latency),
                    hb::last_items.eq(items),
                    hb::cycles_total.eq(hb::cycles_total + 1),
                    hb::items_total.eq(hb::items_total + items),
                );
                match error {
                    None => diesel::update(row)
                        .set((
                            common,
                            hb::status.eq("succeeded"),
                            hb::last_succeeded_at.eq(now),
                            hb::consecutive_errors.eq(0),
                        ))
                        .execute(conn)?,
                    Some(message) => {
                        let message: String = message.chars().take(MAX_ERROR_CHARS).collect();
                        diesel::update(row)
                            .set((
                                common,
                                hb::status.eq("failed"),
                                hb::last_error_at.eq(now),
                                hb::last_error.eq(message),
                                hb::failures_total.eq(hb::failures_total + 1),
                                hb::consecutive_errors.eq(hb::consecutive_errors + 1),
                            ))
                            .execute(conn)?
                    }
                };
                Ok(())
            })
            .await
    }

    async fn add_events(
        &self,
        worker: &str,
        events: &[(&'static str, u64)],
    ) -> Result<(), DbError> {
        use clones_db::schema::worker_event_totals as ev;
        let now = self.clock.now();
        let rows: Vec<_> = events
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(event, count)| {
                (
                    ev::worker_name.eq(worker.to_string()),
                    ev::event.eq(*event),
                    ev::total.eq(i64::try_from(*count).unwrap_or(i64::MAX)),
                    ev::updated_at.eq(now),
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.db
            .run(move |conn| {
                diesel::insert_into(ev::table)
                    .values(rows)
                    .on_conflict((ev::worker_name, ev::event))
                    .do_update()
                    .set((
                        ev::total.eq(ev::total + excluded(ev::total)),
                        ev::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .map(drop)
                    .map_err(DbError::from)
            })
            .await
    }

    async fn health(&self, stale_after_intervals: u32) -> Result<WorkersHealth, DbError> {
        use clones_db::schema::worker_event_totals as ev;
        let now = self.clock.now();
        let (rows, totals): (Vec<HeartbeatRow>, Vec<(String, String, i64)>) = self
            .db
            .run(|conn| {
                let rows = hb::worker_heartbeats
                    .order(hb::worker_name.asc())
                    .select(HeartbeatRow::as_select())
                    .load(conn)
                    .map_err(DbError::from)?;
                let totals = ev::table
                    .select((ev::worker_name, ev::event, ev::total))
                    .load(conn)
                    .map_err(DbError::from)?;
                Ok::<_, DbError>((rows, totals))
            })
            .await?;
        let mut events: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (worker, event, total) in totals {
            events.entry(worker).or_default().insert(event, total);
        }
        let workers: Vec<WorkerHealth> = rows
            .into_iter()
            .map(|row| {
                // A worker whose first cycle is still running is measured from its start.
                let reference = row.last_completed_at.unwrap_or(row.last_started_at);
                let allowed = Duration::milliseconds(
                    row.interval_ms.saturating_mul(stale_after_intervals.into()),
                );
                WorkerHealth {
                    events: events.remove(&row.worker_name).unwrap_or_default(),
                    stale: now - reference > allowed,
                    worker: row.worker_name,
                    instance_id: row.instance_id,
                    status: row.status,
                    interval_ms: row.interval_ms,
                    last_started_at: row.last_started_at,
                    last_completed_at: row.last_completed_at,
                    last_succeeded_at: row.last_succeeded_at,
                    last_error_at: row.last_error_at,
                    last_error: row.last_error,
                    last_latency_ms: row.last_latency_ms,
                    last_items: row.last_items,
                    cycles_total: row.cycles_total,
                    failures_total: row.failures_total,
                    items_total: row.items_total,
                    consecutive_errors: row.consecutive_errors,
                }
            })
            .collect();
        let healthy = workers
            .iter()
            .all(|worker| !worker.stale && worker.consecutive_errors == 0);
        Ok(WorkersHealth {
            healthy,
            stale_after_intervals,
            workers,
        })
    }
}
