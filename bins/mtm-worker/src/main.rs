//! Marks prop accounts to market: each cycle applies due perp funding and outcome settlements,
//! then snapshots equity, used margin, gross exposure and drawdown of the accounts least
//! recently marked (SKIP LOCKED, safe with replicas).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use clones_ingest::PgIngestService;
use clones_prop_engine::{MarketMemoryFeed, PgPropService, PropService, PropSettings};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};

/// Settings of the mark-to-market worker.
#[derive(Debug, Parser)]
#[command(name = "mtm-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Seconds between cycles.
    #[arg(long, env = "MTM_WORKER_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    /// Most accounts marked per cycle.
    #[arg(long, env = "MTM_WORKER_BATCH", default_value_t = 10_000)]
    batch: u32,
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
}

struct MarkToMarket {
    prop: PgPropService,
    batch: u32,
}

#[async_trait]
impl Cycle for MarkToMarket {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        // Funding and settlements first, so the snapshots include them.
        let carry = self.prop.apply_carry_due(self.batch).await?;
        if carry.funding_payments > 0 || carry.settlements > 0 {
            tracing::info!(
                funding_payments = carry.funding_payments,
                settlements = carry.settlements,
                "carry applied"
            );
        }
        let report = self.prop.mark_to_market(self.batch).await?;
        Ok(CycleReport {
            items: report.accounts,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    anyhow::ensure!(settings.batch > 0, "batch must be positive");
    let db = settings.database.connect()?;
    let clock: Arc<dyn clones_kernel::Clock> = Arc::new(clones_kernel::SystemClock);
    // Marks come from market memory; a position without a fresh enough mid is valued at its
    // entry price and counted as unmarked.
    let market = Arc::new(PgIngestService::new(db.clone(), clock.clone()));
    let prop = PgPropService::new(
        db.clone(),
        clock.clone(),
        Arc::new(MarketMemoryFeed::new(market)),
        PropSettings::default(),
    );
    let cycle = MarkToMarket {
        prop,
        batch: settings.batch,
    };
    let options = WorkerOptions {
        name: "mtm-worker".into(),
        interval: Duration::from_secs(settings.interval_secs),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
