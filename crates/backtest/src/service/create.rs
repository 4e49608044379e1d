//! Queueing a job and running a preview: the request checked field by field, the strategy
//! resolved and compiled under the clone's entitlement, the size checked against the tier and
//! the hard limits, and (for a job) the day's usage counted in the transaction that queues it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use clones_clone_service::CloneRuntime;
use clones_kernel::FieldProblem;
use clones_prop_engine::{AccountContext, PropError};
use clones_strategy::{CompiledPlan, Constraints};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgBacktestService;
use super::market::estimated_bars;
use super::spec::{JobSpec, job_view};
use crate::engine::{BacktestInput, run};
use crate::models::{JobRow, usage_day};
use crate::policy::{TierLimits, problem, size_problems};
use crate::settings::{BacktestSettings, EndAt, FillAt};
use crate::views::{CreateBacktest, JobKind, JobView, PreviewBacktest, PreviewView};
use crate::{JobError, repo};

/// The engine settings a request asks for, on top of the defaults.
struct Asked {
    cash: Option<Decimal>,
    commission: Option<Decimal>,
    slippage_bps: Option<Decimal>,
    fill_at: Option<FillAt>,
    end_at: Option<EndAt>,
}

impl Asked {
    fn settings(&self, default_cash: Decimal) -> BacktestSettings {
        BacktestSettings {
            cash: self.cash.unwrap_or(default_cash),
            fill_at: self.fill_at.unwrap_or_default(),
            commission: self.commission,
            slippage_bps: self.slippage_bps.unwrap_or_default(),
            end_at: self.end_at.unwrap_or_default(),
        }
    }
}

/// Range and settings problems of a request.
fn request_problems(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    settings: &BacktestSettings,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if from >= to {
        problems.push(problem(
            "empty_range",
            "from",
            "`from` must be before `to`".into(),
        ));
    }
    if let Err(message) = settings.validate() {
        problems.push(problem("invalid_settings", "settings", message));
    }
    problems
}

/// The compile constraints of the clone as it is now.
fn constraints(runtime: &CloneRuntime) -> Constraints {
    Constraints {
        trade_universe: (!runtime.trade_universe.assets.is_empty()).then(|| {
            runtime
                .trade_universe
                .assets
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
        }),
        max_active_assets: runtime.entitlement.max_active_assets,
        max_model_strength: runtime.entitlement.allowed_model_strength,
    }
}

/// Compiles `graph` under `constraints`; answers the plan and the graph's fingerprint.
pub(super) fn compile(
    graph: &serde_json::Value,
    constraints: &Constraints,
) -> Result<(CompiledPlan, String), JobError> {
    let fingerprint = clones_clone_service::strategy::validate(graph, constraints)?;
    let parsed = clones_strategy::parse_value(graph)
        .map_err(|errors| JobError::Corrupt(format!("validated graph: {errors:?}")))?;
    let plan = clones_strategy::compile(&parsed, constraints)
        .map_err(|errors| JobError::Corrupt(format!("validated graph: {errors:?}")))?;
    Ok((plan, fingerprint))
}

/// Seconds from `now` to the next UTC midnight.
fn until_tomorrow(now: DateTime<Utc>) -> u64 {
    let tomorrow = now
        .date_naive()
        .succ_opt()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc());
    tomorrow.map_or(86_400, |midnight| {
        u64::try_from((midnight - now).num_seconds().max(1)).unwrap_or(86_400)
    })
}

pub(super) async fn create(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    request: CreateBacktest,
) -> Result<JobView, JobError> {
    let runtime = service.clones.runtime(owner, clone_id).await?;
    let now = service.clock.now();
    let asked = Asked {
        cash: request.cash,
        commission: request.commission,
        slippage_bps: request.slippage_bps,
        fill_at: request.fill_at,
        end_at: request.end_at,
    };
    // A consistency job takes its window, cash and strategy from the paper account.
    let (kind, from, to, default_cash, version) = match request.paper_account_id {
        Some(account_id) => {
            let account = match service.prop.account(owner, account_id).await {
                Err(PropError::AccountNotFound) => return Err(JobError::AccountNotFound),
                other => other?,
            };
            if account.clone_id != Some(clone_id)
                || !matches!(
                    account.context,
                    AccountContext::Audition | AccountContext::Arena
                )
            {
                return Err(JobError::AccountNotFound);
            }
            let version = match request.version {
                Some(version) => Some(version),
                None => Some(
                    runtime
                        .active_version
                        .as_ref()
                        .map(|version| version.version)
                        .ok_or_else(|| {
                            JobError::InvalidRequest(vec![problem(
                                "no_active_version",
                                "version",
                                "the clone has no active version; name the version the account traded".into(),
                            )])
                        })?,
                ),
            };
            (
                JobKind::PaperConsistency,
                request.from.unwrap_or(account.created_at),
                request.to.unwrap_or(now),
                account.starting_balance,
                version,
            )
        }
        None => {
            let mut missing = Vec::new();
            if request.from.is_none() {
                missing.push(problem("required", "from", "`from` is required".into()));
            }
            if request.to.is_none() {
                missing.push(problem("required", "to", "`to` is required".into()));
            }
            let (Some(from), Some(to)) = (request.from, request.to) else {
                return Err(JobError::InvalidRequest(missing));
            };
            (
                JobKind::Backtest,
                from,
                to,
                service.settings.default_cash,
                request.version,
            )
        }
    };
    let settings = asked.settings(default_cash);
    let mut problems = request_problems(from, to, &settings);
    if let Some(walk) = &request.walk_forward
        && let Err(message) = walk.validate()
    {
        problems.push(problem("invalid_walk_forward", "walkForward", message));
    }
    if !problems.is_empty() {
        return Err(JobError::InvalidRequest(problems));
    }
    let graph = match version {
        Some(number) => service.clones.version(owner, clone_id, number).await?.graph,
        None => service.clones.get_draft(owner, clone_id).await?.graph,
    };
    let (plan, fingerprint) = compile(&graph, &constraints(&runtime))?;
    let instruments = service.instrument_keys(&plan)?;
    let bars = estimated_bars(&plan, from, to);
    let tier = runtime.entitlement.tier;
    let too_large = size_problems(
        &service.settings,
        tier,
        runtime.entitlement.max_active_assets,
        bars,
        (to - from).num_days(),
        instruments.len(),
    );
    if !too_large.is_empty() {
        return Err(JobError::TooLarge(too_large));
    }
    let spec = JobSpec {
        strategy_version: version,
        strategy_fingerprint: fingerprint,
        graph,
        tier,
        universe: runtime.trade_universe.assets.clone(),
        max_active_assets: runtime.entitlement.max_active_assets,
        instruments,
        from,
        to,
        settings,
        walk_forward: request.walk_forward,
        paper_account: request.paper_account_id,
    };
    let row = JobRow {
        id: Uuid::new_v4(),
        owner_user_id: owner,
        clone_id,
        kind: kind.as_str().into(),
        status: repo::QUEUED.into(),
        spec: serde_json::to_value(&spec)
            .map_err(|error| JobError::Corrupt(format!("job spec: {error}")))?,
        bars_total: i64::try_from(bars).unwrap_or(i64::MAX),
        bars_done: 0,
        attempts: 0,
        leased_at: None,
        lease_expires_at: None,
        cancel_requested: false,
        error_code: None,
        error_detail: None,
        created_at: now,
        finished_at: None,
    };
    let limits = TierLimits::of(tier);
    let max_open = service.settings.max_open_jobs;
    service
        .as_owner(owner, move |conn, _| {
            if repo::open_jobs(conn, owner)? >= i64::from(max_open) {
                return Err(JobError::QueueFull(max_open));
            }
            // Counted first: the row lock serialises two requests of one clone and day, and
            // an error below rolls the count back with the job.
            let usage = repo::count_usage(conn, owner, clone_id, usage_day(now), row.bars_total)?;
            let spent = if usage.jobs > i32::try_from(limits.jobs_per_day).unwrap_or(i32::MAX) {
                Some(format!(
                    "a {} clone may queue {} backtests a day",
                    tier.as_str(),
                    limits.jobs_per_day
                ))
            } else if u64::try_from(usage.bars).unwrap_or(0) > limits.bars_per_day {
                Some(format!(
                    "a {} clone may replay {} bars a day; this job would bring today's to {}",
                    tier.as_str(),
                    limits.bars_per_day,
                    usage.bars
                ))
            } else {
                None
            };
            if let Some(detail) = spent {
                return Err(JobError::UsageExceeded {
                    detail,
                    retry_after_secs: until_tomorrow(now),
                });
            }
            repo::insert_job(conn, &row)?;
            job_view(row, None, now)
        })
        .await
}

pub(super) async fn preview(
    service: &PgBacktestService,
    owner: Uuid,
    clone_id: Uuid,
    request: PreviewBacktest,
) -> Result<PreviewView, JobError> {
    let runtime = service.clones.runtime(owner, clone_id).await?;
    let settings = Asked {
        cash: request.cash,
        commission: request.commission,
        slippage_bps: request.slippage_bps,
        fill_at: request.fill_at,
        end_at: request.end_at,
    }
    .settings(service.settings.default_cash);
    let problems = request_problems(request.from, request.to, &settings);
    if !problems.is_empty() {
        return Err(JobError::InvalidRequest(problems));
    }
    let graph = match request.graph {
        Some(graph) => graph,
        None => service.clones.get_draft(owner, clone_id).await?.graph,
    };
    let (plan, fingerprint) = compile(&graph, &constraints(&runtime))?;
    let bars = estimated_bars(&plan, request.from, request.to);
    let limit = service.settings.preview_max_bars;
    if bars > limit {
        return Err(JobError::TooLarge(vec![problem(
            "too_many_bars",
            "bars",
            format!(
                "a preview replays at most {limit} bars; this one would replay {bars}; queue a backtest job instead"
            ),
        )]));
    }
    let instruments = service.instrument_keys(&plan)?;
    let traded = service.traded_instruments(&instruments).await?;
    let window = service.window(&plan, request.from, request.to).await?;
    let (from, to) = (request.from.timestamp(), request.to.timestamp());
    let report = tokio::task::spawn_blocking(move || {
        run(
            &BacktestInput {
                plan: &plan,
                window: &window,
                instruments: &traded,
                from: Some(from),
                to: Some(to),
            },
            &settings,
        )
    })
    .await
    .map_err(|error| JobError::Corrupt(format!("preview task: {error}")))??;
    Ok(PreviewView {
        strategy_fingerprint: fingerprint,
        bars,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usage_day_resets_at_utc_midnight() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap_or_default();
        assert_eq!(until_tomorrow(at("2026-12-06T23:59:30Z")), 30);
        assert_eq!(until_tomorrow(at("2026-12-06T00:00:00Z")), 86_400);
    }
}
