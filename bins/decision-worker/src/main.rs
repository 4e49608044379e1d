//! Asks each trading clone's model for decisions and hands them to the prop engine.
//!
//! Each cycle reads every assignment of the roster, `DECISION_WORKER_BATCH` per page, and
//! decides for them, `DECISION_WORKER_CONCURRENCY` at a time, in the slot `now` truncated to the interval.
//! Replicas are safe: a second delivery of a slot finds the first run (unique account and
//! slot) and prop-engine executes each action id at most once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use clones_ai_decision::settings::LlmArgs;
use clones_ai_decision::{
    DecisionSettings, FixedRoster, LifecycleRoster, PgDecisionService, TradingRoster,
};
use clones_clone_service::{CloneService, NoCompetitionFacts, PgCloneService};
use clones_ingest::PgIngestService;
use clones_kernel::{Clock, SystemClock};
use clones_lifecycle::{LifecycleService, LifecycleSettings, PgLifecycleService};
use clones_market::VenueKind;
use clones_prop_engine::{MarketMemoryFeed, PgPropService, PropService, PropSettings};
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};

/// Settings of the decision worker.
#[derive(Debug, Parser)]
#[command(name = "decision-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
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
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    once: bool,
}

/// The roster seam: the one place the worker decides where assignments come from. Lifecycle's
/// running auditions and Arena memberships, unless a file names the assignments.
fn roster(
    settings: &Settings,
    lifecycle: Arc<dyn LifecycleService>,
) -> anyhow::Result<Arc<dyn TradingRoster>> {
    match &settings.roster_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)?;
            Ok(Arc::new(FixedRoster::from_json(&text)?))
        }
        None => Ok(Arc::new(LifecycleRoster(lifecycle))),
    }
}

struct Decide {
    service: PgDecisionService,
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
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    anyhow::ensure!(settings.batch > 0, "batch must be positive");
    anyhow::ensure!(settings.concurrency > 0, "concurrency must be positive");
    let llm = settings.llm.model().map_err(anyhow::Error::msg)?;
    let db = settings.database.connect()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let market = Arc::new(PgIngestService::new(db.clone(), clock.clone()));
    let clones: Arc<dyn CloneService> = Arc::new(PgCloneService::new(
        db.clone(),
        clock.clone(),
        Arc::new(NoCompetitionFacts),
    ));
    let prop: Arc<dyn PropService> = Arc::new(PgPropService::new(
        db.clone(),
        clock.clone(),
        Arc::new(MarketMemoryFeed::new(market.clone())),
        PropSettings::default(),
    ));
    let lifecycle = Arc::new(PgLifecycleService::for_workers(
        db.clone(),
        clock.clone(),
        prop.clone(),
        LifecycleSettings::default(),
    ));
    let roster = roster(&settings, lifecycle)?;
    let service = PgDecisionService::new(
        db.clone(),
        clock.clone(),
        clones,
        market,
        prop,
        llm,
        DecisionSettings {
            interval_secs: settings.interval_secs,
            venue: settings.venue.venue().to_string(),
            kind: settings.venue.kind(),
            concurrency: settings.concurrency,
            ..DecisionSettings::default()
        },
    );
    let cycle = Decide {
        service,
        roster,
        batch: settings.batch,
    };
    let options = WorkerOptions {
        name: "decision-worker".into(),
        interval: Duration::from_secs(u64::from(settings.interval_secs)),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
