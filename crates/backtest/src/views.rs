//! What the backtest service takes and returns: serde + utoipa, camelCase, no diesel.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consistency::Consistency;
use crate::metrics::Metrics;
use crate::report::BacktestReport;
use crate::settings::{BacktestSettings, EndAt, FillAt};
use crate::walk::{WalkForward, WalkForwardReport};

/// A request to queue a backtest of the clone's strategy.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBacktest {
    /// The published version to test; absent: the current draft (or, with `paperAccountId`,
    /// the active version, which is what the account traded).
    pub version: Option<i32>,
    /// Start of the tested range (bars opening at or after it); required unless
    /// `paperAccountId` is given (then: the account's opening).
    pub from: Option<DateTime<Utc>>,
    /// End of the tested range (bars opening before it); required unless `paperAccountId`
    /// is given (then: now).
    pub to: Option<DateTime<Utc>>,
    /// Starting cash (decimal string); default 10000, or the paper account's starting
    /// balance.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub cash: Option<Decimal>,
    /// Commission as a fraction of traded value (`"0.001"` is 0.1%); default: the venue's
    /// taker fee.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub commission: Option<Decimal>,
    /// Slippage in basis points of the fill price; default 0.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub slippage_bps: Option<Decimal>,
    /// When market orders fill; default `next_open`.
    pub fill_at: Option<FillAt>,
    /// What happens to a position open at the end; default `close`.
    pub end_at: Option<EndAt>,
    /// Split the range into in-sample and out-of-sample folds.
    pub walk_forward: Option<WalkForward>,
    /// Replay this paper account's window and compare (a consistency job).
    pub paper_account_id: Option<Uuid>,
}

/// A synchronous backtest of the draft (or of a graph not saved yet) over a few bars.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewBacktest {
    /// A strategy graph to test instead of the saved draft (see docs/strategy-format.md).
    #[schema(value_type = Option<Object>)]
    pub graph: Option<serde_json::Value>,
    /// Start of the tested range.
    pub from: DateTime<Utc>,
    /// End of the tested range.
    pub to: DateTime<Utc>,
    /// Starting cash (decimal string); default 10000.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub cash: Option<Decimal>,
    /// Commission as a fraction of traded value; default: the venue's taker fee.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub commission: Option<Decimal>,
    /// Slippage in basis points; default 0.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub slippage_bps: Option<Decimal>,
    /// When market orders fill; default `next_open`.
    pub fill_at: Option<FillAt>,
    /// What happens to a position open at the end; default `close`.
    pub end_at: Option<EndAt>,
}

/// What a preview produced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewView {
    /// SHA3-256 of the tested graph's canonical form.
    pub strategy_fingerprint: String,
    /// Bars replayed.
    pub bars: u64,
    /// Metrics, trades, fills, the equity curve and the result hash.
    pub report: BacktestReport,
}

/// A job's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A backtest over a range.
    Backtest,
    /// A backtest of a paper account's window, compared with what the account did.
    PaperConsistency,
}

impl JobKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backtest => "backtest",
            JobKind::PaperConsistency => "paper_consistency",
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Finished with metrics.
    Succeeded,
    /// Finished without (see `error`).
    Failed,
    /// Stopped by its owner.
    Cancelled,
}

impl JobStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// The status of a stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job is over.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// How far a job has come.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    /// Bars replayed by the current attempt.
    pub bars_done: u64,
    /// Bars the job replays (an estimate from the range until the run starts).
    pub bars_total: u64,
    /// `barsDone / barsTotal`, percent.
    pub percent: f64,
    /// Seconds left at the current attempt's pace; `null` until it has a pace.
    pub eta_seconds: Option<u64>,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobFailure {
    /// Stable machine code.
    pub code: String,
    /// What happened.
    pub detail: Option<String>,
}

/// The headline figures of a finished job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSummary {
    /// The report's hash, `v2:` and 64 hex digits (BLAKE3; a bare 64-digit hash is the
    /// SHA-256 of version 1): equal for the same strategy, data and settings.
    pub result_hash: String,
    /// Equity after the last bar.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub final_equity: Decimal,
    /// Total return, percent.
    pub total_return_pct: f64,
    /// Deepest drawdown, percent.
    pub max_drawdown_pct: f64,
    /// Annualised Sharpe ratio.
    pub sharpe: f64,
    /// Round trips.
    pub trades: u32,
    /// The paper-consistency score in [0, 1] (consistency jobs only).
    pub consistency_score: Option<f64>,
}

/// One backtest job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// The job.
    pub id: Uuid,
    /// The clone.
    pub clone_id: Uuid,
    /// Backtest or paper consistency.
    pub kind: JobKind,
    /// Where it is.
    pub status: JobStatus,
    /// The tested version; `null` for the draft.
    pub strategy_version: Option<i32>,
    /// SHA3-256 of the tested graph's canonical form.
    pub strategy_fingerprint: String,
    /// Start of the tested range.
    pub from: DateTime<Utc>,
    /// End of the tested range.
    pub to: DateTime<Utc>,
    /// Asset → instrument key of every traded asset.
    pub instruments: std::collections::BTreeMap<String, String>,
    /// The engine settings.
    pub settings: BacktestSettings,
    /// The walk-forward request, when there is one.
    pub walk_forward: Option<WalkForward>,
    /// The compared paper account (consistency jobs).
    pub paper_account_id: Option<Uuid>,
    /// Bars done of total, and the ETA.
    pub progress: ProgressView,
    /// Leases taken so far.
    pub attempts: u32,
    /// Whether the owner asked it to stop.
    pub cancel_requested: bool,
    /// Why it failed.
    pub error: Option<JobFailure>,
    /// Headline figures once it succeeded.
    pub summary: Option<JobSummary>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the current (or last) attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// One job with everything it produced.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    /// The job.
    pub job: JobView,
    /// Every metric (see the module page for the formulas).
    pub metrics: Option<Metrics>,
    /// Metrics per fold and the out-of-sample degradation.
    pub walk_forward_report: Option<WalkForwardReport>,
    /// The comparison with the paper account (consistency jobs).
    pub consistency: Option<Consistency>,
    /// The stored artifacts.
    pub artifacts: Vec<ArtifactView>,
}

/// What a job stores besides its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// The equity curve (JSON: time, equity, cash, exposed per bar close).
    Equity,
    /// The drawdown series (JSON: time, drawdown percent per bar close).
    Drawdown,
    /// The trade list as JSON.
    TradesJson,
    /// The trade list as CSV.
    TradesCsv,
    /// Equity and drawdown with trade markers (SVG).
    ChartSvg,
}

impl ArtifactKind {
    /// Every kind, in storage order.
    pub const ALL: [ArtifactKind; 5] = [
        ArtifactKind::ChartSvg,
        ArtifactKind::Drawdown,
        ArtifactKind::Equity,
        ArtifactKind::TradesCsv,
        ArtifactKind::TradesJson,
    ];

    /// The stored form (and path segment).
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Equity => "equity",
            ArtifactKind::Drawdown => "drawdown",
            ArtifactKind::TradesJson => "trades_json",
            ArtifactKind::TradesCsv => "trades_csv",
            ArtifactKind::ChartSvg => "chart_svg",
        }
    }

    /// The kind of a stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The media type it is served as.
    pub fn content_type(self) -> &'static str {
        match self {
            ArtifactKind::Equity | ArtifactKind::Drawdown | ArtifactKind::TradesJson => {
                "application/json"
            }
            ArtifactKind::TradesCsv => "text/csv; charset=utf-8",
            ArtifactKind::ChartSvg => "image/svg+xml",
        }
    }
}

/// One stored artifact, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BacktestArtifact)]
pub struct ArtifactView {
    /// What it is.
    pub kind: ArtifactKind,
    /// Its media type.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When retention deletes it.
    pub expires_at: DateTime<Utc>,
}

/// An artifact's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Its media type.
    pub content_type: String,
    /// The bytes.
    pub body: Vec<u8>,
}

/// What one worker cycle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkReport {
    /// Expired leases returned to the queue.
    pub requeued: usize,
    /// Jobs leased and run by this cycle.
    pub leased: usize,
    /// Of those, finished with metrics.
    pub succeeded: usize,
    /// Failed (here, or by exhausting their attempts).
    pub failed: usize,
    /// Stopped by a cancel.
    pub cancelled: usize,
    /// Given back to the queue after a dependency failed, or lost to an expired lease.
    pub released: usize,
    /// Artifacts deleted by retention.
    pub artifacts_deleted: usize,
}
