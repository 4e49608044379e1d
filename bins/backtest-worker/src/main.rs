//! Runs backtest jobs: each cycle returns expired leases to the queue (failing the jobs whose
//! attempts are spent), leases up to `BACKTEST_WORKER_CONCURRENCY` queued jobs (SKIP LOCKED,
//! so replicas never run one job twice), runs them side by side while heartbeats write their
//! progress and watch for cancels, stores metrics and artifacts, and deletes artifacts past
//! retention.

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_backtest::{BacktestJobArgs, BacktestService, JobSettings};
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{PropFeed, ServiceSettings, Services};

/// Settings of the backtest worker.
#[derive(Debug, Parser)]
#[command(name = "backtest-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles when the queue is empty.
    #[arg(long, env = "BACKTEST_WORKER_INTERVAL_SECS", default_value_t = 2)]
    interval_secs: u64,
    /// Jobs this replica runs at once (one core each).
    #[arg(long, env = "BACKTEST_WORKER_CONCURRENCY", default_value_t = 2)]
    concurrency: u32,
    #[command(flatten)]
    jobs: BacktestJobArgs,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "backtest-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    fn batch(&self) -> Option<u32> {
        Some(self.concurrency)
    }
}

struct Backtests {
    service: Arc<dyn BacktestService>,
    concurrency: u32,
}

#[async_trait]
impl Cycle for Backtests {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let report = self.service.work(self.concurrency).await?;
        tracing::info!(
            requeued = report.requeued,
            leased = report.leased,
            succeeded = report.succeeded,
            failed = report.failed,
            cancelled = report.cancelled,
            released = report.released,
            artifacts_deleted = report.artifacts_deleted,
            "backtest cycle"
        );
        Ok(CycleReport {
            items: u64::try_from(report.leased).unwrap_or(u64::MAX),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        let backtests = settings.jobs.apply(JobSettings::default())?;
        // Backtests read market memory through ingest and paper accounts through prop reads;
        // they never execute an order, so the prop engine has no feed.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                backtests,
                prop_feed: PropFeed::None,
                ..ServiceSettings::default()
            },
        );
        Ok(Backtests {
            service: services.backtests,
            concurrency: settings.concurrency,
        })
    })
    .await?;
    Ok(())
}
