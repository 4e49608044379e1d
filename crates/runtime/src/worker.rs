//! The worker loop: one cycle at once, then one every interval, until shutdown. Each cycle is
//! recorded twice: in the heartbeat row, and in the process's metrics (see
//! [`prometheus`](crate::prometheus) for the names).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

use crate::prometheus as names;
use crate::{HeartbeatService, Shutdown};

/// What a finished cycle reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Items processed (rows purged, jobs run, …), added to the heartbeat totals.
    pub items: u64,
}

/// A failed cycle. The loop records it and carries on with the next cycle.
pub type CycleError = Box<dyn std::error::Error + Send + Sync>;

/// One unit of a worker's work.
#[async_trait]
pub trait Cycle: Send + Sync {
    /// Runs one cycle.
    async fn run_cycle(&self) -> Result<CycleReport, CycleError>;

    /// Named event counts since the last call (a mirror's decisions by outcome, its
    /// wake-ups, its failed polls), taken after each cycle: added to the heartbeat's running
    /// totals and to `worker_events_total`. Names are lower-case `[a-z][a-z0-9_]*`.
    fn take_events(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The heartbeat name, e.g. `housekeeping-worker`.
    pub name: String,
    /// Time between the end of one cycle and the start of the next.
    pub interval: Duration,
    /// Run a single cycle and return.
    pub once: bool,
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Cycles finished.
    pub cycles: u64,
    /// Cycles that failed.
    pub failures: u64,
    /// Whether the last cycle failed (a `--once` run exits non-zero then).
    pub last_failed: bool,
}

/// Runs `cycle` until `shutdown` is requested (or once). A shutdown request never interrupts a
/// running cycle: the cycle finishes, its heartbeat is written, then the loop returns.
/// Heartbeat write failures are logged and do not stop the worker.
pub async fn run_worker(
    options: &WorkerOptions,
    cycle: &dyn Cycle,
    heartbeats: Arc<dyn HeartbeatService>,
    mut shutdown: Shutdown,
) -> RunSummary {
    let instance_id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut summary = RunSummary::default();
    let worker = options.name.clone();
    metrics::gauge!(names::WORKER_INTERVAL_SECONDS, "worker" => worker.clone())
        .set(options.interval.as_secs_f64());
    let mut consecutive_errors: u32 = 0;
    loop {
        if let Err(error) = heartbeats
            .cycle_started(&options.name, &instance_id, options.interval)
            .await
        {
            tracing::warn!(worker = %options.name, %error, "could not write heartbeat");
            heartbeat_write_failed(&worker);
        }
        let started = Instant::now();
        let outcome = cycle.run_cycle().await;
        let latency = started.elapsed();
        summary.cycles += 1;
        consecutive_errors = if outcome.is_ok() {
            0
        } else {
            consecutive_errors.saturating_add(1)
        };
        record_cycle(&worker, latency, outcome.as_ref().ok(), consecutive_errors);
        let (items, error) = match outcome {
            Ok(report) => {
                tracing::info!(worker = %options.name, items = report.items, latency_ms = latency.as_millis() as u64, "cycle succeeded");
                summary.last_failed = false;
                (report.items, None)
            }
            Err(error) => {
                tracing::error!(worker = %options.name, %error, latency_ms = latency.as_millis() as u64, "cycle failed");
                summary.failures += 1;
                summary.last_failed = true;
                (0, Some(error.to_string()))
            }
        };
        if let Err(error) = heartbeats
            .cycle_finished(&options.name, latency, items, error)
            .await
        {
            tracing::warn!(worker = %options.name, %error, "could not write heartbeat");
            heartbeat_write_failed(&worker);
        }
        let events = cycle.take_events();
        for (event, count) in &events {
            metrics::counter!(names::WORKER_EVENTS_TOTAL, "worker" => worker.clone(), "event" => *event)
                .increment(*count);
        }
        if let Err(error) = heartbeats.add_events(&options.name, &events).await {
            tracing::warn!(worker = %options.name, %error, "could not write event totals");
            heartbeat_write_failed(&worker);
        }
        if options.once || shutdown.is_requested() {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(options.interval) => {}
            () = shutdown.requested() => break,
        }
    }
    tracing::info!(worker = %options.name, cycles = summary.cycles, failures = summary.failures, "worker stopped");
    summary
}

/// Records a finished cycle in the metrics: `report` is `None` when it failed.
fn record_cycle(
    worker: &str,
    latency: Duration,
    report: Option<&CycleReport>,
    consecutive_errors: u32,
) {
    let worker = worker.to_string();
    let outcome = if report.is_some() {
        "success"
    } else {
        "failure"
    };
    metrics::histogram!(
        names::WORKER_CYCLE_DURATION_SECONDS,
        "worker" => worker.clone(),
        "outcome" => outcome
    )
    .record(latency.as_secs_f64());
    metrics::counter!(names::WORKER_CYCLES_TOTAL, "worker" => worker.clone(), "outcome" => outcome)
        .increment(1);
    metrics::gauge!(names::WORKER_CONSECUTIVE_ERRORS, "worker" => worker.clone())
        .set(f64::from(consecutive_errors));
    match report {
        Some(report) => {
            // Counts beyond 2^53 would lose precision as f64; no cycle comes near that.
            let items = report.items as f64;
            metrics::histogram!(names::WORKER_CYCLE_ITEMS, "worker" => worker.clone())
                .record(items);
            metrics::counter!(names::WORKER_ITEMS_TOTAL, "worker" => worker.clone())
                .increment(report.items);
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            metrics::gauge!(names::WORKER_LAST_SUCCESS_TIMESTAMP_SECONDS, "worker" => worker)
                .set(now.as_secs_f64());
        }
        None => {
            metrics::counter!(names::WORKER_CYCLE_ERRORS_TOTAL, "worker" => worker).increment(1);
        }
    }
}

fn heartbeat_write_failed(worker: &str) {
    metrics::counter!(names::WORKER_HEARTBEAT_WRITE_ERRORS_TOTAL, "worker" => worker.to_string())
        .increment(1);
}
