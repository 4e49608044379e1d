//! Re-checks deposits that were pending (unmined or under-confirmed) when submitted, so none is
//! lost: each cycle leases due deposits (SKIP LOCKED, safe with replicas) and settles them,
//! then books the royalties of profitable Arena fills of clones trading adopted marketplace
//! strategies (idempotent on the fill, so replicas and repeats book each once).

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_economy::settings::{PaymentArgs, RoyaltyArgs};
use clones_economy::{EconomyService, RoyaltyService};
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{ServiceSettings, Services};

/// Settings of the economy worker.
#[derive(Debug, Parser)]
#[command(name = "economy-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    #[command(flatten)]
    payments: PaymentArgs,
    #[command(flatten)]
    royalties: RoyaltyArgs,
    /// Seconds between cycles.
    #[arg(long, env = "ECONOMY_WORKER_INTERVAL_SECS", default_value_t = 10)]
    interval_secs: u64,
    /// Most deposits settled per cycle.
    #[arg(long, env = "ECONOMY_WORKER_BATCH", default_value_t = 100)]
    batch: u32,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "economy-worker";

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

struct Recheck {
    economy: Arc<dyn EconomyService>,
    royalties: Arc<dyn RoyaltyService>,
    batch: u32,
}

#[async_trait]
impl Cycle for Recheck {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let report = self.economy.recheck_pending(self.batch).await?;
        let booked = self.royalties.book_royalties(self.batch).await?;
        tracing::info!(
            fills = booked.fills,
            booked = booked.booked,
            already_booked = booked.already_booked,
            exempt = booked.exempt,
            "royalty booking"
        );
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
            items: report.checked + booked.fills,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        let payments = settings.payments.to_settings()?.ok_or(
            "payments are not configured (VAULT_ADDRESS, PAYMENTS_RPC_URL, QUOTE_SIGNER_KEY)",
        )?;
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                payments: Some(payments),
                royalties: settings.royalties.to_settings(),
                ..ServiceSettings::default()
            },
        );
        Ok(Recheck {
            economy: services.economy,
            royalties: services.royalties,
            batch: settings.batch,
        })
    })
    .await?;
    Ok(())
}
