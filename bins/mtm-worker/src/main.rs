//! Marks prop accounts to market: each cycle applies due perp funding and outcome settlements,
//! then snapshots equity, used margin, gross exposure and drawdown of the accounts not yet
//! marked this cycle, in id order (SKIP LOCKED, safe with replicas).

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_prop_engine::PropService;
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{PropFeed, ServiceSettings, Services};

/// Settings of the mark-to-market worker.
#[derive(Debug, Parser)]
#[command(name = "mtm-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles.
    #[arg(long, env = "MTM_WORKER_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    /// Most accounts marked per cycle.
    #[arg(long, env = "MTM_WORKER_BATCH", default_value_t = 10_000)]
    batch: u32,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "mtm-worker";

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

struct MarkToMarket {
    prop: Arc<dyn PropService>,
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
    clones_runtime::worker_main(|settings: &Settings, context| {
        // Marks come from market memory; a position without a fresh enough mid is valued at
        // its entry price and counted as unmarked.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                prop_feed: PropFeed::MarketMemory,
                ..ServiceSettings::default()
            },
        );
        Ok(MarkToMarket {
            prop: services.prop,
            batch: settings.batch,
        })
    })
    .await?;
    Ok(())
}
