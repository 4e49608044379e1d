//! Evaluates running auditions and admits promoted clones to the Arena: each cycle judges the
//! new mark-to-market snapshots and fills of leased running auditions (SKIP LOCKED, safe with
//! replicas), then tries to admit queued Promotion Queue entries.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use clones_lifecycle::{LifecycleService, LifecycleSettings, PgLifecycleService};
use clones_prop_engine::{NoMarketFeed, PgPropService, PropSettings};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};

/// Settings of the lifecycle worker.
#[derive(Debug, Parser)]
#[command(name = "lifecycle-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
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
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
}

struct Lifecycle {
    service: PgLifecycleService,
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
fn seconds(name: &str, value: u64) -> anyhow::Result<chrono::Duration> {
    i64::try_from(value)
        .ok()
        .and_then(chrono::Duration::try_seconds)
        .ok_or_else(|| anyhow::anyhow!("{name} is too large"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    anyhow::ensure!(settings.batch > 0, "batch must be positive");
    anyhow::ensure!(settings.lease_secs > 0, "lease must be positive");
    let db = settings.database.connect()?;
    let clock: Arc<dyn clones_kernel::Clock> = Arc::new(clones_kernel::SystemClock);
    // The worker opens accounts and reads snapshots and fills; it never executes an order,
    // so it needs no market feed.
    let prop = Arc::new(PgPropService::new(
        db.clone(),
        clock.clone(),
        Arc::new(NoMarketFeed),
        PropSettings::default(),
    ));
    let lease = seconds("LIFECYCLE_WORKER_LEASE_SECS", settings.lease_secs)?;
    let close_grace = seconds(
        "LIFECYCLE_WORKER_CLOSE_GRACE_SECS",
        settings.close_grace_secs,
    )?;
    let service = PgLifecycleService::for_workers(
        db.clone(),
        clock.clone(),
        prop,
        LifecycleSettings {
            lease,
            close_grace,
            ..LifecycleSettings::default()
        },
    );
    let cycle = Lifecycle {
        service,
        batch: settings.batch,
    };
    let options = WorkerOptions {
        name: "lifecycle-worker".into(),
        interval: Duration::from_secs(settings.interval_secs),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
