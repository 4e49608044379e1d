//! Deletes sign-in challenges and sessions that ended more than the retention period ago, so
//! identity tables stay small. One cycle at once, then every interval; `--once` for one.

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_auth::AccessAdmin;
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{ServiceSettings, Services};

/// Settings of the housekeeping worker.
#[derive(Debug, Parser)]
#[command(name = "housekeeping-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles.
    #[arg(long, env = "HOUSEKEEPING_INTERVAL_SECS", default_value_t = 300)]
    interval_secs: u64,
    /// Keep ended challenges and sessions this many hours before deleting them.
    #[arg(long, env = "HOUSEKEEPING_RETENTION_HOURS", default_value_t = 24)]
    retention_hours: i64,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "housekeeping-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }
}

struct Purge {
    access: Arc<dyn AccessAdmin>,
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
    clones_runtime::worker_main(|settings: &Settings, context| {
        if settings.retention_hours < 0 {
            return Err("retention must not be negative".into());
        }
        let services = Services::new(context.db, context.clock, ServiceSettings::default());
        Ok(Purge {
            access: services.access,
            retention: chrono::Duration::hours(settings.retention_hours),
        })
    })
    .await?;
    Ok(())
}
