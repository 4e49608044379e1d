//! Fills market memory: each cycle runs every enabled source (offline replay by default;
//! Hyperliquid, Polymarket and DefiLlama when enabled), each channel recorded as an ingestion
//! run. A failing source never stops the others; the cycle reports failure if any channel
//! failed, so the heartbeat shows it.

use async_trait::async_trait;
use clap::Parser;
use clones_ingest::settings::SourceArgs;
use clones_ingest::{Ingestor, RunStatus};
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{ServiceSettings, Services};

/// Settings of the ingest worker.
#[derive(Debug, Parser)]
#[command(name = "ingest-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles.
    #[arg(long, env = "INGEST_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    #[command(flatten)]
    sources: SourceArgs,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "ingest-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }
}

struct Ingest(Ingestor);

#[async_trait]
impl Cycle for Ingest {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let outcome = self.0.run_once().await;
        let failed: Vec<String> = outcome
            .runs
            .iter()
            .filter(|run| run.status == RunStatus::Failed)
            .map(|run| format!("{}/{}", run.source, run.channel))
            .collect();
        if !failed.is_empty() {
            // The other channels' rows are stored; the heartbeat shows which failed.
            return Err(format!(
                "{} of {} channel(s) failed: {}",
                failed.len(),
                outcome.runs.len(),
                failed.join(", ")
            )
            .into());
        }
        Ok(CycleReport {
            items: outcome.rows(),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        let sources = settings
            .sources
            .build()
            .map_err(|error| format!("invalid source settings: {error}"))?;
        let services = Services::new(context.db, context.clock, ServiceSettings::default());
        Ok(Ingest(services.ingestor(sources)))
    })
    .await?;
    Ok(())
}
