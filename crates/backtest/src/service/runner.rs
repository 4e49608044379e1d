//! The worker's side: expired leases back to the queue (or failed once their attempts are
//! spent), queued jobs leased with SKIP LOCKED, each run on the blocking pool while a
//! heartbeat writes its progress, renews its lease and watches for a cancel, and the results
//! stored only while the attempt still holds the lease (the attempt number fences a worker
//! whose lease was taken over).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use clones_kernel::{PageRequest, TimeKey};
use clones_market::InstrumentKey;
use clones_strategy::{CompiledPlan, Constraints, MarketWindow};
use uuid::Uuid;

use super::PgBacktestService;
use super::create::compile;
use super::market::bar_secs;
use super::spec::JobSpec;
use crate::artifacts::{drawdown_series, trades_csv};
use crate::chart::chart_svg;
use crate::consistency::{Consistency, PaperFill, PaperPoint, compare};
use crate::engine::{BacktestError, BacktestInput, Progress, run_observed};
use crate::models::{ArtifactRow, JobRow, MetricsRow};
use crate::report::BacktestReport;
use crate::settings::TradedInstrument;
use crate::views::{ArtifactKind, WorkReport};
use crate::walk::{WalkForwardReport, walk_forward};
use crate::{JobError, repo};

/// A job this worker leased, with the attempt that fences its writes.
#[derive(Debug, Clone)]
pub struct LeasedJob {
    row: JobRow,
}

impl LeasedJob {
    /// The job.
    pub fn id(&self) -> Uuid {
        self.row.id
    }

    /// The attempt (1 for the first lease).
    pub fn attempt(&self) -> i32 {
        self.row.attempts
    }
}

/// How one leased job ended for this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Metrics and artifacts stored.
    Succeeded,
    /// Failed with a reason (its own fault, or its last attempt's dependency failure).
    Failed,
    /// Stopped by a cancel.
    Cancelled,
    /// Given back to the queue after a dependency failed.
    Released,
    /// The lease expired and another attempt owns the job; nothing was written.
    LeaseLost,
}

/// What a run needs besides the plan and the bars.
struct Prepared {
    spec: JobSpec,
    plan: CompiledPlan,
    window: MarketWindow,
    traded: std::collections::BTreeMap<String, TradedInstrument>,
    paper: Option<(Vec<PaperFill>, Vec<PaperPoint>)>,
}

/// What a run produced.
struct Produced {
    report: BacktestReport,
    walk: Option<WalkForwardReport>,
    consistency: Option<Consistency>,
    artifacts: Vec<(ArtifactKind, Vec<u8>)>,
}

pub(super) async fn work(
    service: &PgBacktestService,
    capacity: u32,
) -> Result<WorkReport, JobError> {
    let (requeued, exhausted, expired_cancelled) = expire(service).await?;
    let leased = lease(service, capacity).await?;
    let mut report = WorkReport {
        requeued,
        leased: leased.len(),
        failed: exhausted,
        cancelled: expired_cancelled,
        ..WorkReport::default()
    };
    let outcomes =
        futures_util::future::join_all(leased.into_iter().map(|job| run_leased(service, job)))
            .await;
    for outcome in outcomes {
        match outcome {
            JobOutcome::Succeeded => report.succeeded += 1,
            JobOutcome::Failed => report.failed += 1,
            JobOutcome::Cancelled => report.cancelled += 1,
            JobOutcome::Released | JobOutcome::LeaseLost => report.released += 1,
        }
    }
    report.artifacts_deleted = sweep(service).await?;
    Ok(report)
}

/// Expired leases: requeued, failed (no attempts left) or cancelled (a cancel was asked).
pub(super) async fn expire(service: &PgBacktestService) -> Result<(usize, usize, usize), JobError> {
    let max_attempts = i32::try_from(service.settings.max_attempts).unwrap_or(i32::MAX);
    service
        .as_worker(move |conn, now| Ok(repo::expire_leases(conn, now, max_attempts)?))
        .await
}

/// Leases up to `capacity` queued jobs, oldest first.
pub(super) async fn lease(
    service: &PgBacktestService,
    capacity: u32,
) -> Result<Vec<LeasedJob>, JobError> {
    let lease = service.settings.lease;
    let rows = service
        .as_worker(move |conn, now| {
            Ok(repo::lease_queued(
                conn,
                now,
                now + lease,
                i64::from(capacity),
            )?)
        })
        .await?;
    Ok(rows.into_iter().map(|row| LeasedJob { row }).collect())
}

/// Deletes artifacts older than the retention.
pub(super) async fn sweep(service: &PgBacktestService) -> Result<usize, JobError> {
    let retention = service.settings.retention;
    service
        .as_worker(move |conn, now| Ok(repo::delete_artifacts_before(conn, now - retention)?))
        .await
}

/// Runs one leased job to its end and records the end.
pub(super) async fn run_leased(service: &PgBacktestService, job: LeasedJob) -> JobOutcome {
    let (id, attempt) = (job.id(), job.attempt());
    let result = match prepare(service, &job.row).await {
        Ok(prepared) => execute(service, &job, prepared).await,
        Err(error) => Err(Ended::Error(error)),
    };
    let ending = match result {
        Ok(produced) => store(service, &job, produced).await,
        Err(Ended::Cancelled) => end(service, id, attempt, repo::CANCELLED, None).await,
        Err(Ended::LeaseLost) => Ok(JobOutcome::LeaseLost),
        Err(Ended::Error(error)) => fail_or_release(service, &job, &error).await,
    };
    match ending {
        Ok(outcome) => {
            tracing::info!(job = %id, attempt, ?outcome, "backtest job ended");
            outcome
        }
        Err(error) => {
            // The lease expires and the sweep gives the job another attempt.
            tracing::warn!(job = %id, attempt, %error, "backtest job result not recorded");
            JobOutcome::Released
        }
    }
}

/// Why a run ended without results.
enum Ended {
    Cancelled,
    LeaseLost,
    Error(JobError),
}

/// The plan, the bars and (for a consistency job) the paper account's history.
async fn prepare(service: &PgBacktestService, row: &JobRow) -> Result<Prepared, JobError> {
    let spec = JobSpec::parse(row)?;
    let constraints = Constraints {
        trade_universe: (!spec.universe.is_empty())
            .then(|| spec.universe.iter().cloned().collect()),
        max_active_assets: spec.max_active_assets,
        max_model_strength: spec.tier.allowed_model_strength(),
    };
    let (plan, _) = compile(&spec.graph, &constraints)?;
    let traded = service.traded_instruments(&spec.instruments).await?;
    let window = service.window(&plan, spec.from, spec.to).await?;
    let paper = match spec.paper_account {
        Some(account) => Some(paper_history(service, row.owner_user_id, account, &spec).await?),
        None => None,
    };
    Ok(Prepared {
        spec,
        plan,
        window,
        traded,
        paper,
    })
}

/// The paper account's fills and equity snapshots inside the job's range.
async fn paper_history(
    service: &PgBacktestService,
    owner: Uuid,
    account: Uuid,
    spec: &JobSpec,
) -> Result<(Vec<PaperFill>, Vec<PaperPoint>), JobError> {
    let assets: std::collections::BTreeMap<&str, &str> = spec
        .instruments
        .iter()
        .map(|(asset, key)| (key.as_str(), asset.as_str()))
        .collect();
    let in_range = |at: chrono::DateTime<chrono::Utc>| at >= spec.from && at < spec.to;
    let mut fills = Vec::new();
    let mut page = PageRequest::<TimeKey>::new(Some(PageRequest::MAX_LIMIT), None)?;
    loop {
        let batch = service.prop.fills_after(owner, account, page).await?;
        for fill in &batch.items {
            if !in_range(fill.created_at) {
                continue;
            }
            // A fill of an instrument the strategy does not name keeps its key, so it counts
            // as paper-only.
            let asset = assets
                .get(fill.instrument.as_str())
                .map_or_else(|| symbol_of(&fill.instrument), |asset| (*asset).to_string());
            fills.push(PaperFill {
                asset,
                side: fill.side,
                time: fill.created_at.timestamp(),
            });
        }
        match batch.next_cursor {
            Some(cursor) => page = PageRequest::new(Some(PageRequest::MAX_LIMIT), Some(cursor))?,
            None => break,
        }
    }
    let mut equity = Vec::new();
    let mut page = PageRequest::<TimeKey>::new(Some(PageRequest::MAX_LIMIT), None)?;
    loop {
        let batch = service.prop.equity_after(owner, account, page).await?;
        equity.extend(
            batch
                .items
                .iter()
                .filter(|point| in_range(point.at))
                .map(|point| PaperPoint {
                    time: point.at.timestamp(),
                    equity: point.equity,
                }),
        );
        match batch.next_cursor {
            Some(cursor) => page = PageRequest::new(Some(PageRequest::MAX_LIMIT), Some(cursor))?,
            None => break,
        }
    }
    Ok((fills, equity))
}

fn symbol_of(key: &str) -> String {
    key.parse::<InstrumentKey>()
        .map_or_else(|_| key.to_string(), |key| key.to_string())
}

/// Runs the engine on the blocking pool while the heartbeat keeps the lease.
async fn execute(
    service: &PgBacktestService,
    job: &LeasedJob,
    prepared: Prepared,
) -> Result<Produced, Ended> {
    let done = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(
        u64::try_from(job.row.bars_total).unwrap_or(0),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handle = {
        let (done, total, stop) = (done.clone(), total.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            produce(prepared, &mut |progress: Progress| {
                done.store(progress.done, Ordering::Relaxed);
                total.store(progress.total, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
        })
    };
    let mut ticker = tokio::time::interval(service.settings.heartbeat);
    let mut ended = None;
    let joined = loop {
        tokio::select! {
            joined = &mut handle => break joined,
            _ = ticker.tick() => {
                let progress = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                match heartbeat(service, job, progress).await {
                    Ok(Some(false)) => {}
                    Ok(Some(true)) => {
                        ended = Some(Ended::Cancelled);
                        stop.store(true, Ordering::Relaxed);
                    }
                    Ok(None) => {
                        ended = Some(Ended::LeaseLost);
                        stop.store(true, Ordering::Relaxed);
                    }
                    // Keep running: the next heartbeat may get through before the lease
                    // expires, and if it does not, the store finds the lease lost.
                    Err(error) => tracing::warn!(job = %job.id(), %error, "backtest heartbeat failed"),
                }
            }
        }
    };
    let produced = joined
        .map_err(|error| Ended::Error(JobError::Corrupt(format!("backtest task: {error}"))))?;
    match (produced, ended) {
        (Err(BacktestError::Stopped), Some(ended)) => Err(ended),
        (Err(error), _) => Err(Ended::Error(JobError::Engine(error))),
        // A cancel that came after the last bar still cancels: the owner asked before the
        // results were stored.
        (Ok(_), Some(ended)) => Err(ended),
        (Ok(produced), None) => Ok(produced),
    }
}

/// Progress and lease renewal; `Some(cancel asked)`, or `None` when the lease was lost.
async fn heartbeat(
    service: &PgBacktestService,
    job: &LeasedJob,
    (done, total): (u64, u64),
) -> Result<Option<bool>, JobError> {
    let (id, attempt, lease) = (job.id(), job.attempt(), service.settings.lease);
    let done = i64::try_from(done).unwrap_or(i64::MAX);
    let total = i64::try_from(total).unwrap_or(i64::MAX).max(done);
    service
        .as_worker(move |conn, now| {
            Ok(repo::heartbeat(
                conn,
                id,
                attempt,
                done,
                total,
                now + lease,
            )?)
        })
        .await
}

/// The engine run, the folds, the comparison and the artifacts: pure work.
fn produce(
    prepared: Prepared,
    observe: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<Produced, BacktestError> {
    let Prepared {
        spec,
        plan,
        window,
        traded,
        paper,
    } = prepared;
    let input = BacktestInput {
        plan: &plan,
        window: &window,
        instruments: &traded,
        from: Some(spec.from.timestamp()),
        to: Some(spec.to.timestamp()),
    };
    let (report, _) = run_observed(&input, &spec.settings, observe)?;
    let walk = spec
        .walk_forward
        .as_ref()
        .map(|request| walk_forward(&input, &spec.settings, request))
        .transpose()?;
    let consistency = paper
        .as_ref()
        .map(|(fills, equity)| compare(&report, bar_secs(&plan), fills, equity));
    let drawdown = drawdown_series(&report.equity, spec.settings.cash);
    let artifacts = vec![
        (ArtifactKind::Equity, json(&report.equity)),
        (ArtifactKind::Drawdown, json(&drawdown)),
        (ArtifactKind::TradesJson, json(&report.trades)),
        (
            ArtifactKind::TradesCsv,
            trades_csv(&report.trades).into_bytes(),
        ),
        (
            ArtifactKind::ChartSvg,
            chart_svg(&report, spec.settings.cash).into_bytes(),
        ),
    ];
    Ok(Produced {
        report,
        walk,
        consistency,
        artifacts,
    })
}

/// An artifact's JSON body. Serializing plain data cannot fail; an empty body would show if
/// it did.
fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// Stores the results and ends the job, while the attempt still holds the lease.
async fn store(
    service: &PgBacktestService,
    job: &LeasedJob,
    produced: Produced,
) -> Result<JobOutcome, JobError> {
    let (id, attempt, owner) = (job.id(), job.attempt(), job.row.owner_user_id);
    let Produced {
        report,
        walk,
        consistency,
        artifacts,
    } = produced;
    let corrupt = |error: serde_json::Error| JobError::Corrupt(format!("job {id} result: {error}"));
    let bars = report.equity.len();
    let metrics = MetricsRow {
        job_id: id,
        owner_user_id: owner,
        result_hash: report.result_hash.clone(),
        final_equity: report.metrics.final_equity,
        total_return_pct: report.metrics.total_return_pct,
        max_drawdown_pct: report.metrics.max_drawdown_pct,
        sharpe: report.metrics.sharpe,
        trades: i32::try_from(report.metrics.trades).unwrap_or(i32::MAX),
        metrics: serde_json::to_value(&report.metrics).map_err(corrupt)?,
        walk_forward: walk
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(corrupt)?,
        consistency: consistency
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(corrupt)?,
        consistency_score: consistency.as_ref().map(|found| found.score),
        computed_at: service.clock.now(),
    };
    service
        .as_worker(move |conn, now| {
            let Some(row) = repo::lock_held(conn, id, attempt)? else {
                return Ok(JobOutcome::LeaseLost);
            };
            if row.cancel_requested {
                repo::finish(conn, id, repo::CANCELLED, None, now)?;
                return Ok(JobOutcome::Cancelled);
            }
            repo::finish(conn, id, repo::SUCCEEDED, None, now)?;
            repo::complete_progress(conn, id)?;
            repo::insert_metrics(
                conn,
                &MetricsRow {
                    computed_at: now,
                    ..metrics
                },
            )?;
            let rows: Vec<ArtifactRow> = artifacts
                .into_iter()
                .map(|(kind, body)| ArtifactRow {
                    job_id: id,
                    owner_user_id: owner,
                    kind: kind.as_str().into(),
                    content_type: kind.content_type().into(),
                    body,
                    created_at: now,
                })
                .collect();
            repo::insert_artifacts(conn, &rows)?;
            tracing::debug!(job = %id, bars, "backtest results stored");
            Ok(JobOutcome::Succeeded)
        })
        .await
}

/// Ends the attempt with `status` while it holds the lease.
async fn end(
    service: &PgBacktestService,
    id: Uuid,
    attempt: i32,
    status: &'static str,
    error: Option<(String, String)>,
) -> Result<JobOutcome, JobError> {
    service
        .as_worker(move |conn, now| {
            if repo::lock_held(conn, id, attempt)?.is_none() {
                return Ok(JobOutcome::LeaseLost);
            }
            repo::finish(
                conn,
                id,
                status,
                error
                    .as_ref()
                    .map(|(code, detail)| (code.as_str(), detail.as_str())),
                now,
            )?;
            Ok(match status {
                repo::CANCELLED => JobOutcome::Cancelled,
                _ => JobOutcome::Failed,
            })
        })
        .await
}

/// A failure of the job itself fails it; a dependency's failure gives it back to the queue
/// until its attempts are spent.
async fn fail_or_release(
    service: &PgBacktestService,
    job: &LeasedJob,
    error: &JobError,
) -> Result<JobOutcome, JobError> {
    use clones_kernel::DomainError;
    let (id, attempt) = (job.id(), job.attempt());
    let last = attempt >= i32::try_from(service.settings.max_attempts).unwrap_or(i32::MAX);
    if error.is_transient() && !last {
        tracing::warn!(job = %id, attempt, %error, "backtest job released after a failure");
        let released = service
            .as_worker(move |conn, _| Ok(repo::release(conn, id, attempt)?))
            .await?;
        return Ok(if released {
            JobOutcome::Released
        } else {
            JobOutcome::LeaseLost
        });
    }
    let code = if error.is_transient() {
        repo::ATTEMPTS_EXHAUSTED.to_string()
    } else {
        error.code().to_string()
    };
    end(
        service,
        id,
        attempt,
        repo::FAILED,
        Some((code, error.to_string())),
    )
    .await
}
