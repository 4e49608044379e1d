//! Backtests of compiled strategies on historical bars, and the jobs that run them.
//!
//! The engine ([`run`]) is pure: it replays a [`MarketWindow`](clones_strategy::MarketWindow)
//! through the strategy crate's rule model and fills the resulting orders through prop-engine's
//! fill simulation and paper account, so a backtest and a paper account share one definition of
//! sizing, fills, fees, positions and the ledger. [`walk_forward`] splits a range into
//! in-sample and out-of-sample folds; [`compare`] measures how a backtest agrees with a paper
//! account. Those modules do no I/O. Bar semantics and metric formulas are on the module page
//! (docs/modules/backtest.md).
//!
//! [`PgBacktestService`] owns the tables `backtest_jobs` (a queue with leases),
//! `backtest_job_metrics`, `backtest_usage_days` and `backtest_artifacts`: it checks a request
//! against the clone's tier and the hard limits, queues it, and (in `backtest-worker`) leases
//! jobs, reads their bars from market memory through ingest's `MarketData`, runs the engine,
//! and stores metrics and artifacts. It reads clones through `CloneService` and paper accounts
//! through `PropService`, and never writes their tables.

mod artifacts;
mod chart;
pub mod consistency;
mod data;
mod decimal;
mod engine;
mod error;
mod metrics;
mod models;
pub mod policy;
mod repo;
mod report;
mod service;
mod settings;
mod stops;
pub mod views;
mod walk;

pub use artifacts::{DrawdownPoint, TRADES_CSV_HEADER, drawdown_series, trades_csv};
pub use chart::{CHART_SIZE, chart_svg};
pub use consistency::{Consistency, PaperFill, PaperPoint, compare};
pub use data::{bars_of, parse_bars, single_series};
pub use engine::{
    BacktestError, BacktestInput, PROGRESS_EVERY, Progress, run, run_observed, run_with_ledger,
};
pub use error::{JobError, QUEUE_FULL_RETRY_SECS};
pub use metrics::Metrics;
pub use policy::{BacktestJobArgs, JobSettings, TierLimits};
pub use report::{
    BacktestReport, Direction, EquityPoint, FillReason, FillRecord, RESULT_HASH_VERSION, Trade,
};
pub use service::{JobOutcome, LeasedJob, PgBacktestService};
pub use settings::{BacktestSettings, EndAt, FillAt, TradedInstrument};
pub use views::*;
pub use walk::{Fold, FoldMode, FoldReport, WalkForward, WalkForwardReport, walk_forward};

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

/// Backtest jobs of one's clones, and the worker's side of the queue. The owner methods are
/// HTTP routes under `/api/v1/clone/clones/{id}/`:
///
/// | method | route |
/// |---|---|
/// | [`BacktestService::create`] | `POST decision-backtests` |
/// | [`BacktestService::jobs`] | `GET decision-backtests` |
/// | [`BacktestService::job`] | `GET decision-backtests/{jobId}` |
/// | [`BacktestService::cancel`] | `POST decision-backtests/{jobId}/cancel` |
/// | [`BacktestService::artifacts`] | `GET decision-backtests/{jobId}/artifacts` |
/// | [`BacktestService::artifact`] | `GET decision-backtests/{jobId}/artifacts/{kind}` |
/// | [`BacktestService::preview`] | `POST decision-backtest-preview` |
///
/// Someone else's clone or job answers `clone_not_found` / `backtest_job_not_found`, exactly
/// as a missing one.
#[async_trait]
pub trait BacktestService: Send + Sync {
    /// Checks the request against the clone's tier and the hard limits, counts it in the
    /// day's usage and queues it, all in one transaction: a refused request queues and counts
    /// nothing.
    ///
    /// # Errors
    /// `clone_not_found`, `strategy_version_not_found`, `prop_account_not_found`,
    /// `invalid_backtest_request`, `invalid_strategy_graph`, `backtest_too_large`,
    /// `backtest_usage_exceeded`, `backtest_queue_full`, database failures.
    async fn create(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        request: CreateBacktest,
    ) -> Result<JobView, JobError>;

    /// The clone's jobs, newest first by (creation time, id).
    ///
    /// # Errors
    /// `clone_not_found`, `invalid_page`, database failures.
    async fn jobs(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<JobView>, JobError>;

    /// One job with its progress, metrics, folds, consistency and artifact list.
    ///
    /// # Errors
    /// `clone_not_found`, `backtest_job_not_found`, database failures.
    async fn job(&self, owner: Uuid, clone_id: Uuid, job_id: Uuid) -> Result<JobDetail, JobError>;

    /// Cancels a queued job at once, or asks the worker running it to stop.
    ///
    /// # Errors
    /// `clone_not_found`, `backtest_job_not_found`, `backtest_job_finished`.
    async fn cancel(&self, owner: Uuid, clone_id: Uuid, job_id: Uuid) -> Result<JobView, JobError>;

    /// The job's stored artifacts.
    ///
    /// # Errors
    /// `clone_not_found`, `backtest_job_not_found`, database failures.
    async fn artifacts(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        job_id: Uuid,
    ) -> Result<Vec<ArtifactView>, JobError>;

    /// One artifact's body.
    ///
    /// # Errors
    /// `clone_not_found`, `backtest_job_not_found`, `backtest_artifact_not_found`,
    /// `backtest_artifact_expired`.
    async fn artifact(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        job_id: Uuid,
        kind: ArtifactKind,
    ) -> Result<Artifact, JobError>;

    /// Runs a small backtest of the draft (or of the given graph) now, without queueing.
    ///
    /// # Errors
    /// `clone_not_found`, `invalid_backtest_request`, `invalid_strategy_graph`,
    /// `backtest_too_large` (over the preview's bar limit), engine refusals.
    async fn preview(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        request: PreviewBacktest,
    ) -> Result<PreviewView, JobError>;

    /// Worker: requeues expired leases, leases up to `capacity` queued jobs and runs them
    /// concurrently, then deletes artifacts past retention.
    ///
    /// # Errors
    /// Database failures of the queue itself; a failing job is recorded, not returned.
    async fn work(&self, capacity: u32) -> Result<WorkReport, JobError>;

    /// Worker, one step of [`BacktestService::work`]: expired leases back to the queue, or
    /// failed when their attempts are spent, or cancelled when a cancel was asked; answers
    /// (requeued, failed, cancelled).
    ///
    /// # Errors
    /// Database failures.
    async fn expire_leases(&self) -> Result<(usize, usize, usize), JobError>;

    /// Worker, one step of [`BacktestService::work`]: leases up to `capacity` queued jobs,
    /// oldest first, skipping rows another worker is leasing.
    ///
    /// # Errors
    /// Database failures.
    async fn lease(&self, capacity: u32) -> Result<Vec<LeasedJob>, JobError>;

    /// Worker, one step of [`BacktestService::work`]: runs a leased job to its end and
    /// records the end (never an error: a failure is recorded on the job).
    async fn run_leased(&self, job: LeasedJob) -> JobOutcome;
}
