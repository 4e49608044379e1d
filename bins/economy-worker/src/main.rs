//! Re-checks deposits that were pending (unmined or under-confirmed) when submitted, so none is
//! lost: each cycle leases due deposits (SKIP LOCKED, safe with replicas) and settles them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use clap::Parser;
use clones_auth::PgAccessAdmin;
use clones_economy::settings::PaymentArgs;
use clones_economy::{EconomyService, PgEconomyService};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};

/// Settings of the economy worker.
#[derive(Debug, Parser)]
#[command(name = "economy-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    payments: PaymentArgs,
    /// Seconds between cycles.
    #[arg(long, env = "ECONOMY_WORKER_INTERVAL_SECS", default_value_t = 10)]
    interval_secs: u64,
    /// Most deposits settled per cycle.
    #[arg(long, env = "ECONOMY_WORKER_BATCH", default_value_t = 100)]
    batch: u32,
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
}

struct Recheck {
    economy: PgEconomyService,
    batch: u32,
}

#[async_trait]
impl Cycle for Recheck {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let report = self.economy.recheck_pending(self.batch).await?;
        // The others in the batch were settled; the failed ones are retried once their lease
        // ends, and the heartbeat shows the failure meanwhile.
        if report.failed > 0 {
            return Err(format!(
                "{} of {} deposit(s) could not be settled",
                report.failed, report.checked
            )
            .into());
        }
        Ok(CycleReport {
            items: report.checked,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    let payments = settings
        .payments
        .to_settings()
        .map_err(anyhow::Error::msg)?
        .context(
            "payments are not configured (VAULT_ADDRESS, PAYMENTS_RPC_URL, QUOTE_SIGNER_KEY)",
        )?;
    let db = settings.database.connect()?;
    let clock: Arc<dyn clones_kernel::Clock> = Arc::new(clones_kernel::SystemClock);
    let access = Arc::new(PgAccessAdmin::new(db.clone(), clock.clone()));
    let cycle = Recheck {
        economy: PgEconomyService::new(db.clone(), clock.clone(), access, Some(payments)),
        batch: settings.batch,
    };
    let options = WorkerOptions {
        name: "economy-worker".into(),
        interval: Duration::from_secs(settings.interval_secs),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
