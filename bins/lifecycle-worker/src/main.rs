//! Evaluates running auditions and admits promoted clones to the Arena: each cycle judges the
//! new mark-to-market snapshots and fills of leased running auditions (SKIP LOCKED, safe with
//! replicas), then tries to admit queued Promotion Queue entries.

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_lifecycle::{LifecycleService, LifecycleSettings};
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{PropFeed, ServiceSettings, Services};

/// Settings of the lifecycle worker.
#[derive(Debug, Parser)]
#[command(name = "lifecycle-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles.
    #[arg(long, env = "LIFECYCLE_WORKER_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    /// Most auditions evaluated, and most queue entries examined, per cycle.
    #[arg(long, env = "LIFECYCLE_WORKER_BATCH", default_value_t = 500)]
    batch: u32,
    /// Seconds a leased audition or queue entry stays with this worker before another may
    /// take it.
    #[arg(long, env = "LIFECYCLE_WORKER_LEASE_SECS", default_value_t = 300)]
    lease_secs: u64,
    /// Seconds after a window's end that its verdict waits for a mark-to-market snapshot taken
    /// after the end before closing without one; at least the mtm-worker's interval.
    #[arg(long, env = "LIFECYCLE_WORKER_CLOSE_GRACE_SECS", default_value_t = 120)]
    close_grace_secs: u64,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "lifecycle-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    fn batch(&self) -> Option<u32> {
        Some(self.batch)
    }
}

struct Lifecycle {
    service: Arc<dyn LifecycleService>,
    batch: u32,
}

#[async_trait]
impl Cycle for Lifecycle {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let evaluation = self.service.evaluate_running(self.batch).await?;
        let arena = self.service.sync_arena_entries(self.batch).await?;
        tracing::info!(
            evaluated = evaluation.evaluated,
            snapshots = evaluation.snapshots,
            passed = evaluation.passed,
            failed = evaluation.failed,
            evaluation_errors = evaluation.errors,
            arena_examined = arena.examined,
            arena_admitted = arena.admitted,
            arena_skipped = arena.skipped,
            arena_errors = arena.errors,
            "lifecycle cycle"
        );
        Ok(CycleReport {
            items: evaluation.evaluated + arena.examined,
        })
    }
}

/// A duration setting in seconds, refused when chrono cannot represent it.
fn seconds(name: &str, value: u64) -> Result<chrono::Duration, String> {
    i64::try_from(value)
        .ok()
        .and_then(chrono::Duration::try_seconds)
        .ok_or_else(|| format!("{name} is too large"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        if settings.lease_secs == 0 {
            return Err("lease must be positive".into());
        }
        let lease = seconds("LIFECYCLE_WORKER_LEASE_SECS", settings.lease_secs)?;
        let close_grace = seconds(
            "LIFECYCLE_WORKER_CLOSE_GRACE_SECS",
            settings.close_grace_secs,
        )?;
        // The worker opens accounts and reads snapshots and fills; it never executes an
        // order, so its prop engine has no market feed. It never quotes, so it needs no
        // payment settings.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                lifecycle: LifecycleSettings {
                    lease,
                    close_grace,
                    ..LifecycleSettings::default()
                },
                prop_feed: PropFeed::None,
                ..ServiceSettings::default()
            },
        );
        Ok(Lifecycle {
            service: services.lifecycle,
            batch: settings.batch,
        })
    })
    .await?;
    Ok(())
}
