//! Runs the strategy marketplace: loads the shipped strategies once (idempotent), then each
//! tick runs the monitoring cycle when `MARKETPLACE_MONITOR_EVERY_SECS` have passed since the
//! last one and the evolution cycle when `MARKETPLACE_EVOLVE_EVERY_SECS` have. The evolution
//! cycle's number is the clock's time divided by its period, so replicas and restarts agree
//! on it and a seed breeds the same children.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use async_trait::async_trait;
use clap::Parser;
use clones_kernel::Clock;
use clones_marketplace::MarketplaceService;
use clones_marketplace::settings::MarketplaceArgs;
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{ServiceSettings, Services};

/// Settings of the marketplace worker.
#[derive(Debug, Parser)]
#[command(name = "marketplace-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between ticks (each runs the cycles that are due).
    #[arg(long, env = "MARKETPLACE_WORKER_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    #[command(flatten)]
    marketplace: MarketplaceArgs,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "marketplace-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }
}

struct Marketplace {
    service: Arc<dyn MarketplaceService>,
    clock: Arc<dyn Clock>,
    monitor_every: i64,
    evolve_every: i64,
    seeded: AtomicBool,
    /// Unix seconds of the last monitoring and evolution runs (0: never, so both run at once).
    last_monitor: AtomicI64,
    last_evolve: AtomicI64,
}

#[async_trait]
impl Cycle for Marketplace {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let mut items = 0;
        if !self.seeded.load(Ordering::Relaxed) {
            let added = self.service.load_seeds().await?;
            tracing::info!(added, "marketplace seed strategies loaded");
            self.seeded.store(true, Ordering::Relaxed);
            items += added;
        }
        let now = self.clock.now().timestamp();
        if now - self.last_monitor.load(Ordering::Relaxed) >= self.monitor_every {
            let report = self.service.monitor().await?;
            tracing::info!(?report, "marketplace monitoring cycle");
            self.last_monitor.store(now, Ordering::Relaxed);
            items += report.checked + report.scored;
        }
        if now - self.last_evolve.load(Ordering::Relaxed) >= self.evolve_every {
            let cycle = u64::try_from(now / self.evolve_every).unwrap_or(0);
            let report = self.service.evolve(cycle).await?;
            tracing::info!(cycle, ?report, "marketplace evolution cycle");
            self.last_evolve.store(now, Ordering::Relaxed);
            items += report.evaluated;
        }
        Ok(CycleReport {
            items: u64::try_from(items).unwrap_or(u64::MAX),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        let (monitor_every, evolve_every) = (
            settings.marketplace.monitor_every_secs,
            settings.marketplace.evolve_every_secs,
        );
        if monitor_every == 0 || evolve_every == 0 {
            return Err("cycle periods must be positive".into());
        }
        let clock = context.clock.clone();
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                marketplace: settings.marketplace.to_settings(),
                ..ServiceSettings::default()
            },
        );
        Ok(Marketplace {
            service: services.marketplace,
            clock,
            monitor_every: i64::try_from(monitor_every).unwrap_or(i64::MAX),
            evolve_every: i64::try_from(evolve_every).unwrap_or(i64::MAX),
            seeded: AtomicBool::new(false),
            last_monitor: AtomicI64::new(0),
            last_evolve: AtomicI64::new(0),
        })
    })
    .await?;
    Ok(())
}
