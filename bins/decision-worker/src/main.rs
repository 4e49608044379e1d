//! Asks each trading clone's model for decisions and hands them to the prop engine.
//!
//! Each cycle reads up to `DECISION_WORKER_BATCH` assignments from the roster and decides for
//! them, `DECISION_WORKER_CONCURRENCY` at a time, in the slot `now` truncated to the interval.
//! Replicas are safe: a second delivery of a slot finds the first run (unique account and
//! slot) and prop-engine executes each action id at most once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use clones_ai_decision::{
    DecisionModel, DecisionSettings, FixedRoster, LifecycleRoster, OpenAiModel, OpenAiSettings,
    PgDecisionService, TradingRoster, parse_prices,
};
use clones_clone_service::{CloneService, NoCompetitionFacts, PgCloneService};
use clones_ingest::PgIngestService;
use clones_kernel::{Clock, Secret, SystemClock};
use clones_lifecycle::{LifecycleService, LifecycleSettings, PgLifecycleService};
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
    /// Most assignments decided per cycle.
    #[arg(long, env = "DECISION_WORKER_BATCH", default_value_t = 1000)]
    batch: u32,
    /// Assignments decided at once.
    #[arg(long, env = "DECISION_WORKER_CONCURRENCY", default_value_t = 8)]
    concurrency: usize,
    /// `venue:kind` prefix of the instruments ordered (`BTC` -> `replay:perp:BTC`).
    #[arg(long, env = "DECISION_VENUE", default_value = "replay:perp")]
    venue: String,
    /// A JSON file listing the assignments to decide for, instead of lifecycle's running
    /// auditions and Arena memberships.
    #[arg(long, env = "DECISION_ROSTER_FILE")]
    roster_file: Option<PathBuf>,
    /// OpenAI-compatible API base including the version path (`http://127.0.0.1:8080/v1`);
    /// none: strategies that need a language model are skipped (`llm_not_configured`).
    #[arg(long, env = "LLM_BASE_URL")]
    llm_base_url: Option<String>,
    /// Bearer key of the endpoint.
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true)]
    llm_api_key: Option<Secret<String>>,
    /// Timeout of one model request, in milliseconds.
    #[arg(long, env = "LLM_TIMEOUT_MS", default_value_t = 20_000)]
    llm_timeout_ms: u64,
    /// Retries after a timeout, connection failure, 429 or 5xx.
    #[arg(long, env = "LLM_MAX_RETRIES", default_value_t = 2)]
    llm_max_retries: u32,
    /// Prices per 1,000 tokens: `model=prompt/completion,…`.
    #[arg(long, env = "LLM_PRICES", default_value = "")]
    llm_prices: String,
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

fn llm(settings: &Settings) -> anyhow::Result<Option<Arc<dyn DecisionModel>>> {
    let Some(base_url) = &settings.llm_base_url else {
        return Ok(None);
    };
    let model = OpenAiModel::new(OpenAiSettings {
        base_url: base_url.clone(),
        api_key: settings.llm_api_key.clone(),
        timeout: Duration::from_millis(settings.llm_timeout_ms),
        max_retries: settings.llm_max_retries,
        prices: parse_prices(&settings.llm_prices).map_err(anyhow::Error::msg)?,
        ..OpenAiSettings::default()
    })?;
    Ok(Some(Arc::new(model)))
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
    let llm = llm(&settings)?;
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
            venue_prefix: settings.venue.clone(),
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
