//! The worker loop: one cycle at once, then one every interval, until shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

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
    loop {
        if let Err(error) = heartbeats
            .cycle_started(&options.name, &instance_id, options.interval)
            .await
        {
            tracing::warn!(worker = %options.name, %error, "could not write heartbeat");
        }
        let started = Instant::now();
        let outcome = cycle.run_cycle().await;
        let latency = started.elapsed();
        summary.cycles += 1;
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
