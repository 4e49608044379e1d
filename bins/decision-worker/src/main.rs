//! Asks each trading clone's model for decisions and hands them to the prop engine.
//!
//! Each cycle reads every assignment of the roster, `DECISION_WORKER_BATCH` per page, and
//! decides for them, `DECISION_WORKER_CONCURRENCY` at a time, in the slot `now` truncated to the interval.
//! Replicas are safe: a second delivery of a slot finds the first run (unique account and
//! slot) and prop-engine executes each action id at most once.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use clap::Parser;
use clones_ai_decision::settings::LlmArgs;
use clones_ai_decision::{
    DecisionSettings, FixedRoster, LifecycleRoster, PgDecisionService, TradingRoster,
};
use clones_lifecycle::LifecycleService;
use clones_market::VenueKind;
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{PropFeed, ServiceSettings, Services};

/// Settings of the decision worker.
#[derive(Debug, Parser)]
#[command(name = "decision-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between cycles; also the decision slot length.
    #[arg(long, env = "DECISION_WORKER_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u32,
    /// Assignments read from the roster per page (a cycle reads every page).
    #[arg(long, env = "DECISION_WORKER_BATCH", default_value_t = 1000)]
    batch: u32,
    /// Assignments decided at once.
    #[arg(long, env = "DECISION_WORKER_CONCURRENCY", default_value_t = 8)]
    concurrency: usize,
    /// `venue:kind` of the instruments ordered (`BTC` -> `replay:perp:BTC`).
    #[arg(long, env = "DECISION_VENUE", default_value = "replay:perp")]
    venue: VenueKind,
    /// A JSON file listing the assignments to decide for, instead of lifecycle's running
    /// auditions and Arena memberships.
    #[arg(long, env = "DECISION_ROSTER_FILE")]
    roster_file: Option<PathBuf>,
    #[command(flatten)]
    llm: LlmArgs,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "decision-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        u64::from(self.interval_secs)
    }

    fn batch(&self) -> Option<u32> {
        Some(self.batch)
    }
}

/// The roster seam: the one place the worker decides where assignments come from. Lifecycle's
/// running auditions and Arena memberships, unless a file names the assignments.
fn roster(
    settings: &Settings,
    lifecycle: Arc<dyn LifecycleService>,
) -> Result<Arc<dyn TradingRoster>, Box<dyn std::error::Error + Send + Sync>> {
    match &settings.roster_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            Ok(Arc::new(FixedRoster::from_json(&text)?))
        }
        None => Ok(Arc::new(LifecycleRoster(lifecycle))),
    }
}

struct Decide {
    service: Arc<PgDecisionService>,
    roster: Arc<dyn TradingRoster>,
    batch: u32,
}

#[async_trait]
impl Cycle for Decide {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let stats = self
            .service
            .run_cycle(self.roster.as_ref(), self.batch)
            .await?;
        tracing::info!(
            assignments = stats.assignments,
            runs_created = stats.runs_created,
            runs_repeated = stats.runs_repeated,
            decided = stats.decided,
            idle = stats.idle,
            skipped = stats.skipped,
            invalid_output = stats.invalid_output,
            model_error = stats.model_error,
            orders_created = stats.orders_created,
            order_errors = stats.order_errors,
            failures = stats.failures,
            "decision cycle"
        );
        Ok(CycleReport {
            items: stats.runs_created + stats.runs_repeated,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::worker_main(|settings: &Settings, context| {
        if settings.concurrency == 0 {
            return Err("concurrency must be positive".into());
        }
        let llm = settings.llm.model()?;
        // Orders are priced from market memory; clones are read with the real competition
        // facts, as everywhere.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                llm,
                decisions: DecisionSettings {
                    interval_secs: settings.interval_secs,
                    venue: settings.venue.venue().to_string(),
                    kind: settings.venue.kind(),
                    concurrency: settings.concurrency,
                    ..DecisionSettings::default()
                },
                prop_feed: PropFeed::MarketMemory,
                ..ServiceSettings::default()
            },
        );
        Ok(Decide {
            roster: roster(settings, services.lifecycle)?,
            service: services.decisions,
            batch: settings.batch,
        })
    })
    .await?;
    Ok(())
}
