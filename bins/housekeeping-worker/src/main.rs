//! Deletes sign-in challenges and sessions that ended more than the retention period ago, so
//! identity tables stay small. One cycle at once, then every interval; `--once` for one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use clones_auth::{AccessAdmin, PgAccessAdmin};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};

/// Settings of the housekeeping worker.
#[derive(Debug, Parser)]
#[command(name = "housekeeping-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Seconds between cycles.
    #[arg(long, env = "HOUSEKEEPING_INTERVAL_SECS", default_value_t = 300)]
    interval_secs: u64,
    /// Keep ended challenges and sessions this many hours before deleting them.
    #[arg(long, env = "HOUSEKEEPING_RETENTION_HOURS", default_value_t = 24)]
    retention_hours: i64,
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
}

struct Purge {
    access: PgAccessAdmin,
    retention: chrono::Duration,
}

#[async_trait]
impl Cycle for Purge {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let purged = self.access.purge_expired(self.retention).await?;
        Ok(CycleReport {
            items: u64::try_from(purged.challenges + purged.sessions).unwrap_or(u64::MAX),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    anyhow::ensure!(
        settings.retention_hours >= 0,
        "retention must not be negative"
    );
    let db = settings.database.connect()?;
    let clock: Arc<dyn clones_kernel::Clock> = Arc::new(clones_kernel::SystemClock);
    let cycle = Purge {
        access: PgAccessAdmin::new(db.clone(), clock.clone()),
        retention: chrono::Duration::hours(settings.retention_hours),
    };
    let options = WorkerOptions {
        name: "housekeeping-worker".into(),
        interval: Duration::from_secs(settings.interval_secs),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
