//! Confirms the transactions owners submitted for their clones' deployments: each cycle leases
//! due submissions (SKIP LOCKED, safe with replicas), reads their receipts and advances or
//! fails the deployments through the state machine.

use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_deployment::{DeploymentArgs, DeploymentService};
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{ServiceSettings, Services};

/// Settings of the deployment worker.
#[derive(Debug, Parser)]
#[command(name = "deployment-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    #[command(flatten)]
    deployment: DeploymentArgs,
    /// Seconds between cycles.
    #[arg(long, env = "DEPLOYMENT_WORKER_INTERVAL_SECS", default_value_t = 5)]
    interval_secs: u64,
    /// Most submitted transactions checked per cycle.
    #[arg(long, env = "DEPLOYMENT_WORKER_BATCH", default_value_t = 100)]
    batch: u32,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "deployment-worker";

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

struct Confirm {
    deployments: Arc<dyn DeploymentService>,
    batch: u32,
}

#[async_trait]
impl Cycle for Confirm {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let report = self.deployments.confirm_pending(self.batch).await?;
        // The others in the batch were settled; the failed checks are retried once their
        // lease ends, and the heartbeat shows the failure meanwhile.
        if report.errors > 0 {
            return Err(format!(
                "{} of {} deployment transaction(s) could not be checked",
                report.errors, report.checked
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
    clones_runtime::worker_main(|settings: &Settings, context| {
        let chain = settings.deployment.to_settings()?.ok_or(
            "the deployment chain is not configured (DEPLOYMENT_FACTORY_ADDRESS, \
             DEPLOYMENT_RPC_URL, DEPLOYMENT_PAYMENT_TOKEN)",
        )?;
        // No keyring: a confirmation or a failure never enters the pool step, the only
        // transition that seals a deposit key.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                deployment_chain: Some(chain),
                ..ServiceSettings::default()
            },
        );
        Ok(Confirm {
            deployments: services.deployments,
            batch: settings.batch,
        })
    })
    .await?;
    Ok(())
}
