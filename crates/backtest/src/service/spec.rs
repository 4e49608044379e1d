//! The frozen job: what a job runs, stored as `backtest_jobs.spec` when it is queued, so a
//! later draft edit or entitlement change never alters a queued job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clones_clone_service::entitlement::Tier;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::JobError;
use crate::models::{JobRow, MetricsRow};
use crate::settings::BacktestSettings;
use crate::views::{JobFailure, JobKind, JobStatus, JobSummary, JobView, ProgressView};
use crate::walk::WalkForward;

/// What a job runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobSpec {
    /// The published version; `None` for the draft.
    pub strategy_version: Option<i32>,
    /// SHA3-256 of the graph's canonical form.
    pub strategy_fingerprint: String,
    /// The graph as it was when the job was queued.
    pub graph: serde_json::Value,
    /// The clone's tier then (its compile constraints).
    pub tier: Tier,
    /// The trade universe then (empty: any asset the strategy names).
    pub universe: Vec<String>,
    /// Assets the clone could trade at once then.
    pub max_active_assets: u32,
    /// Asset → instrument key.
    pub instruments: BTreeMap<String, String>,
    /// Bars opening at or after this are tested.
    pub from: DateTime<Utc>,
    /// Bars opening before this are tested.
    pub to: DateTime<Utc>,
    /// The engine settings.
    pub settings: BacktestSettings,
    /// Walk-forward folds, when asked for.
    pub walk_forward: Option<WalkForward>,
    /// The paper account compared (consistency jobs).
    pub paper_account: Option<Uuid>,
}

impl JobSpec {
    pub(crate) fn parse(row: &JobRow) -> Result<Self, JobError> {
        serde_json::from_value(row.spec.clone())
            .map_err(|error| JobError::Corrupt(format!("job {} spec: {error}", row.id)))
    }
}

pub(crate) fn kind_of(row: &JobRow) -> Result<JobKind, JobError> {
    match row.kind.as_str() {
        "backtest" => Ok(JobKind::Backtest),
        "paper_consistency" => Ok(JobKind::PaperConsistency),
        other => Err(JobError::Corrupt(format!("job {} kind `{other}`", row.id))),
    }
}

pub(crate) fn status_of(row: &JobRow) -> Result<JobStatus, JobError> {
    JobStatus::parse(&row.status)
        .ok_or_else(|| JobError::Corrupt(format!("job {} status `{}`", row.id, row.status)))
}

/// The view of a job row (and its metrics row once it has one) at `now`.
pub(crate) fn job_view(
    row: JobRow,
    metrics: Option<&MetricsRow>,
    now: DateTime<Utc>,
) -> Result<JobView, JobError> {
    let spec = JobSpec::parse(&row)?;
    let status = status_of(&row)?;
    let done = u64::try_from(row.bars_done).unwrap_or(0);
    let total = u64::try_from(row.bars_total).unwrap_or(0);
    let percent = if total == 0 {
        if status == JobStatus::Succeeded {
            100.0
        } else {
            0.0
        }
    } else {
        (done as f64 / total as f64 * 100.0).min(100.0)
    };
    let eta_seconds = match (status, row.leased_at) {
        (JobStatus::Running, Some(started)) if done > 0 => {
            let elapsed = (now - started).num_milliseconds().max(0) as f64 / 1000.0;
            let left = total.saturating_sub(done) as f64;
            Some((elapsed / done as f64 * left).ceil() as u64)
        }
        _ => None,
    };
    Ok(JobView {
        id: row.id,
        clone_id: row.clone_id,
        kind: kind_of(&row)?,
        status,
        strategy_version: spec.strategy_version,
        strategy_fingerprint: spec.strategy_fingerprint,
        from: spec.from,
        to: spec.to,
        instruments: spec.instruments,
        settings: spec.settings,
        walk_forward: spec.walk_forward,
        paper_account_id: spec.paper_account,
        progress: ProgressView {
            bars_done: done,
            bars_total: total,
            percent,
            eta_seconds,
        },
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        cancel_requested: row.cancel_requested,
        error: row.error_code.map(|code| JobFailure {
            code,
            detail: row.error_detail,
        }),
        summary: metrics.map(|metrics| JobSummary {
            result_hash: metrics.result_hash.clone(),
            final_equity: metrics.final_equity,
            total_return_pct: metrics.total_return_pct,
            max_drawdown_pct: metrics.max_drawdown_pct,
            sharpe: metrics.sharpe,
            trades: u32::try_from(metrics.trades).unwrap_or(0),
            consistency_score: metrics.consistency_score,
        }),
        created_at: row.created_at,
        started_at: row.leased_at,
        finished_at: row.finished_at,
    })
}
