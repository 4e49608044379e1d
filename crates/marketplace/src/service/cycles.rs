//! The worker's cycles: seed loading, monitoring (duplicates, sanity, robustness) and
//! evolution (full backtests, promotion and discard, mutation children). Each reads its batch
//! in the audited cross-tenant transaction (monitoring reads the fingerprints and behaviours
//! it compares against there too, once per pass), backtests outside any transaction on the
//! blocking pool, and writes
//! each strategy's outcome in its own transaction after re-reading the row under a lock, so
//! a strategy a review moved meanwhile is left alone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use clones_strategy::{
    CompiledPlan, Constraints, StrategyGraph, compile, fingerprint_hex, parse_value,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::public::asset_type;
use super::{PgMarketplaceService, change_status, record_creation, status_of};
use crate::evaluate::{
    EvaluateError, Evaluation, NEAR_DUPLICATE_CORRELATION, REFERENCE_BARS, correlation, evaluate,
    robustness, walk_forward_efficiency,
};
use crate::models::{EvaluationRow, LineageRow, StrategyRow};
use crate::mutate::{mutate, neighbours};
use crate::seeds::seed_strategies;
use crate::status::{StatusEvent, StrategyStatus};
use crate::thresholds::{self, SANITY_BARS, Verdict};
use crate::views::{EvolveReport, MonitorReport};
use crate::{MarketplaceError, repo};

const PURPOSE: &str = "marketplace cycles: every strategy in the pipeline";

fn plan_of(row: &StrategyRow) -> Result<(StrategyGraph, CompiledPlan), String> {
    let graph = parse_value(&row.graph).map_err(|errors| errors.to_string())?;
    let plan =
        compile(&graph, &Constraints::unrestricted()).map_err(|errors| errors.to_string())?;
    Ok((graph, plan))
}

fn evaluation_row(
    id: Uuid,
    kind: &str,
    evaluation: &Evaluation,
    now: DateTime<Utc>,
) -> Result<EvaluationRow, MarketplaceError> {
    Ok(EvaluationRow {
        strategy_id: id,
        kind: kind.into(),
        metrics: serde_json::to_value(&evaluation.metrics)
            .map_err(|error| MarketplaceError::Corrupt(error.to_string()))?,
        behaviour: evaluation.behaviour.iter().copied().map(Some).collect(),
        result_hash: evaluation.result_hash.clone(),
        evaluated_at: now,
    })
}

fn reason_of(error: &EvaluateError) -> &'static str {
    match error {
        EvaluateError::Outcomes => "unsupported_data",
        EvaluateError::Backtest(error) => error.code(),
    }
}

pub(super) async fn load_seeds(service: &PgMarketplaceService) -> Result<usize, MarketplaceError> {
    let now = service.clock.now();
    service
        .db
        .cross_tenant_transaction(PURPOSE, move |conn| {
            let mut added = 0;
            for seed in seed_strategies() {
                let print = fingerprint_hex(&seed.graph);
                if repo::fingerprint_exists(conn, &print)? {
                    continue;
                }
                let row = StrategyRow {
                    id: Uuid::new_v4(),
                    uploader_user_id: None,
                    name: seed.name.into(),
                    description: seed.description.into(),
                    graph: serde_json::to_value(&seed.graph)
                        .map_err(|error| MarketplaceError::Corrupt(error.to_string()))?,
                    fingerprint: print,
                    asset_type: asset_type(&seed.graph).into(),
                    status: StrategyStatus::Experiment.as_str().into(),
                    score: None,
                    robustness: None,
                    generation: 0,
                    origin: "seed".into(),
                    duplicate_of: None,
                    created_at: now,
                    updated_at: now,
                };
                repo::insert_strategy(conn, &row)?;
                record_creation(conn, &row, "seed", "shipped with the project")?;
                added += 1;
            }
            Ok(added)
        })
        .await
}

/// What the monitoring cycle decided for one pending strategy.
enum Check {
    Duplicate {
        of: Uuid,
        reason: &'static str,
    },
    Verdict {
        verdict: Verdict,
        evaluation: Option<Evaluation>,
    },
    Pass {
        evaluation: Evaluation,
    },
}

/// Runs CPU-bound work (backtests, mutation) on the blocking pool, so a cycle never stalls
/// the async threads that serve requests and heartbeats.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, MarketplaceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| MarketplaceError::Corrupt(format!("marketplace backtest task: {error}")))
}

/// What one monitoring pass knows about the strategies that passed review: read once per
/// pass, and extended with each strategy the pass lets through, so two pending copies of
/// one strategy in the same batch still find each other.
struct Known {
    /// For each pending strategy in the batch, an earlier reviewed one with its fingerprint.
    same_fingerprint: HashMap<Uuid, Uuid>,
    /// Fingerprints of the strategies this pass let through.
    passed: HashMap<String, Uuid>,
    /// The sanity behaviours of live strategies.
    behaviours: Vec<(Uuid, Vec<f64>)>,
}

pub(super) async fn monitor(
    service: &PgMarketplaceService,
) -> Result<MonitorReport, MarketplaceError> {
    let batch = service.settings.monitor_batch;
    let (pending, candidates, mut known) = service
        .db
        .cross_tenant_transaction(PURPOSE, move |conn| {
            let pending = repo::in_statuses(conn, &["pending_review"], batch)?;
            let mut same_fingerprint = HashMap::new();
            for row in &pending {
                if let Some(of) = repo::original_with_fingerprint(conn, &row.fingerprint, row.id)? {
                    same_fingerprint.insert(row.id, of);
                }
            }
            let behaviours = repo::live_behaviours(conn)?
                .into_iter()
                .map(|(id, behaviour)| {
                    (
                        id,
                        behaviour
                            .into_iter()
                            .map(|value| value.unwrap_or(0.0))
                            .collect(),
                    )
                })
                .collect();
            Ok::<_, MarketplaceError>((
                pending,
                repo::in_statuses(conn, &["candidate"], batch)?,
                Known {
                    same_fingerprint,
                    passed: HashMap::new(),
                    behaviours,
                },
            ))
        })
        .await?;
    let mut report = MonitorReport::default();
    for row in pending {
        report.checked += 1;
        let check = check_pending(&known, &row).await?;
        let behaviour = match &check {
            Check::Pass { evaluation } => Some(evaluation.behaviour.clone()),
            _ => None,
        };
        let now = service.clock.now();
        let id = row.id;
        let outcome = service
            .db
            .cross_tenant_transaction(PURPOSE, move |conn| {
                let Some(row) = repo::lock_strategy(conn, id)? else {
                    return Ok(None);
                };
                if status_of(&row)? != StrategyStatus::PendingReview {
                    return Ok(None);
                }
                let to = match check {
                    Check::Duplicate { of, reason } => change_status(
                        conn,
                        &row,
                        StatusEvent::Duplicate,
                        reason,
                        None,
                        Some(of),
                        now,
                    )?,
                    Check::Verdict {
                        verdict,
                        evaluation,
                    } => {
                        if let Some(evaluation) = &evaluation {
                            repo::upsert_evaluation(
                                conn,
                                &evaluation_row(id, "sanity", evaluation, now)?,
                            )?;
                        }
                        change_status(conn, &row, verdict.event, verdict.reason, None, None, now)?
                    }
                    Check::Pass { evaluation } => {
                        repo::upsert_evaluation(
                            conn,
                            &evaluation_row(id, "sanity", &evaluation, now)?,
                        )?;
                        change_status(
                            conn,
                            &row,
                            StatusEvent::Pass,
                            "passed_checks",
                            None,
                            None,
                            now,
                        )?
                    }
                };
                Ok::<_, MarketplaceError>(Some(to))
            })
            .await?;
        match outcome {
            Some(StrategyStatus::Duplicate) => report.duplicates += 1,
            Some(StrategyStatus::Rejected) => report.rejected += 1,
            Some(StrategyStatus::Experiment) => {
                report.passed += 1;
                known.passed.entry(row.fingerprint.clone()).or_insert(id);
                if let Some(behaviour) = behaviour {
                    known.behaviours.push((id, behaviour));
                }
            }
            _ => {}
        }
    }
    for row in candidates {
        report.scored += 1;
        if score_robustness(service, &row).await? == Some(StrategyStatus::Proposable) {
            report.promoted += 1;
        }
    }
    Ok(report)
}

async fn check_pending(known: &Known, row: &StrategyRow) -> Result<Check, MarketplaceError> {
    if let Some(of) = known
        .same_fingerprint
        .get(&row.id)
        .or_else(|| known.passed.get(&row.fingerprint))
    {
        return Ok(Check::Duplicate {
            of: *of,
            reason: "same_fingerprint",
        });
    }
    let plan = match plan_of(row) {
        Ok((_, plan)) => plan,
        Err(_) => {
            return Ok(Check::Verdict {
                verdict: Verdict {
                    event: StatusEvent::Reject,
                    reason: "invalid_strategy_graph",
                },
                evaluation: None,
            });
        }
    };
    let evaluation = match blocking(move || evaluate(&plan, SANITY_BARS)).await? {
        Ok(evaluation) => evaluation,
        Err(error) => {
            return Ok(Check::Verdict {
                verdict: Verdict {
                    event: StatusEvent::Reject,
                    reason: reason_of(&error),
                },
                evaluation: None,
            });
        }
    };
    for (other, behaviour) in &known.behaviours {
        if *other != row.id
            && correlation(&evaluation.behaviour, behaviour)
                .is_some_and(|rho| rho >= NEAR_DUPLICATE_CORRELATION)
        {
            return Ok(Check::Duplicate {
                of: *other,
                reason: "same_behaviour",
            });
        }
    }
    Ok(match thresholds::sanity(&evaluation.metrics) {
        Some(verdict) => Check::Verdict {
            verdict,
            evaluation: Some(evaluation),
        },
        None => Check::Pass { evaluation },
    })
}

/// Scores a candidate's robustness and promotes it when robust; its new status.
async fn score_robustness(
    service: &PgMarketplaceService,
    row: &StrategyRow,
) -> Result<Option<StrategyStatus>, MarketplaceError> {
    let Ok((graph, plan)) = plan_of(row) else {
        return Ok(None);
    };
    let neighbour_seed = u64::from_be_bytes(row.id.as_bytes()[..8].try_into().unwrap_or([0; 8]));
    let Some((full, score)) = blocking(move || {
        let full = evaluate(&plan, REFERENCE_BARS).ok()?;
        let efficiency = walk_forward_efficiency(&plan, REFERENCE_BARS).unwrap_or(0.0);
        let sharpes: Vec<f64> = neighbours(&graph, 4, neighbour_seed)
            .iter()
            .filter_map(|plan| evaluate(plan, REFERENCE_BARS).ok())
            .map(|evaluation| evaluation.metrics.sharpe)
            .collect();
        let score = robustness(efficiency, full.metrics.sharpe, &sharpes);
        Some((full, score))
    })
    .await?
    else {
        return Ok(None);
    };
    let now = service.clock.now();
    let id = row.id;
    service
        .db
        .cross_tenant_transaction(PURPOSE, move |conn| {
            let Some(row) = repo::lock_strategy(conn, id)? else {
                return Ok(None);
            };
            let status = status_of(&row)?;
            repo::set_scores(
                conn,
                id,
                Some(thresholds::score(&full.metrics)),
                Some(score),
                now,
            )?;
            match thresholds::robustness(status, full.metrics.sharpe, score) {
                Some(verdict) => Ok(Some(change_status(
                    conn,
                    &row,
                    verdict.event,
                    verdict.reason,
                    None,
                    None,
                    now,
                )?)),
                None => Ok(Some(status)),
            }
        })
        .await
}

/// The seed of one strategy's mutation in one cycle: from its content (the fingerprint), not
/// its random id, so the same strategies breed the same children in any database.
fn mutation_seed(seed: u64, cycle: u64, fingerprint: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(cycle.to_be_bytes())
        .chain_update(fingerprint.as_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(head)
}

pub(super) async fn evolve(
    service: &PgMarketplaceService,
    cycle: u64,
) -> Result<EvolveReport, MarketplaceError> {
    let batch = service.settings.evolve_batch;
    let rows = service
        .db
        .cross_tenant_transaction(PURPOSE, move |conn| {
            Ok::<_, MarketplaceError>(repo::due_for_evolution(conn, batch)?)
        })
        .await?;
    let mut report = EvolveReport::default();
    for row in rows {
        let Ok((graph, plan)) = plan_of(&row) else {
            continue;
        };
        let breed = report.children < service.settings.children_per_cycle;
        let seed = mutation_seed(service.settings.evolution_seed, cycle, &row.fingerprint);
        let (evaluated, child) = blocking(move || {
            let evaluated = evaluate(&plan, REFERENCE_BARS);
            let child = breed
                .then(|| mutate(&graph, seed, &Constraints::unrestricted()))
                .flatten();
            (evaluated, child)
        })
        .await?;
        let evaluation = match evaluated {
            Ok(evaluation) => evaluation,
            Err(error) => {
                tracing::warn!(strategy = %row.id, %error, "marketplace backtest failed");
                continue;
            }
        };
        report.evaluated += 1;
        let now = service.clock.now();
        let (id, per_strategy, parent_percent) = (
            row.id,
            service.settings.children_per_strategy,
            service.settings.mutation_parent_percent,
        );
        let (status, bred) = service
            .db
            .cross_tenant_transaction(PURPOSE, move |conn| {
                let Some(row) = repo::lock_strategy(conn, id)? else {
                    return Ok((None, false));
                };
                let mut status = status_of(&row)?;
                if !status.evolves() {
                    return Ok((None, false));
                }
                repo::upsert_evaluation(conn, &evaluation_row(id, "full", &evaluation, now)?)?;
                repo::set_scores(
                    conn,
                    id,
                    Some(thresholds::score(&evaluation.metrics)),
                    row.robustness,
                    now,
                )?;
                if let Some(verdict) = thresholds::evolution(status, &evaluation.metrics) {
                    status =
                        change_status(conn, &row, verdict.event, verdict.reason, None, None, now)?;
                }
                let mut bred = false;
                if let Some(child) = child
                    && status.evolves()
                    && repo::child_count(conn, id)? < per_strategy
                {
                    let print = fingerprint_hex(&child.graph);
                    if !repo::fingerprint_exists(conn, &print)? {
                        let generation = row.generation + 1;
                        let base = row
                            .name
                            .split(" · g")
                            .next()
                            .unwrap_or(&row.name)
                            .to_string();
                        let child_row = StrategyRow {
                            id: Uuid::new_v4(),
                            uploader_user_id: row.uploader_user_id,
                            name: format!("{base} · g{generation}")
                                .chars()
                                .take(120)
                                .collect(),
                            description: format!("{} ({})", child.kind.as_str(), child.detail)
                                .chars()
                                .take(2_000)
                                .collect(),
                            graph: serde_json::to_value(&child.graph)
                                .map_err(|error| MarketplaceError::Corrupt(error.to_string()))?,
                            fingerprint: print,
                            asset_type: asset_type(&child.graph).into(),
                            status: StrategyStatus::PendingReview.as_str().into(),
                            score: None,
                            robustness: None,
                            generation,
                            origin: "mutation".into(),
                            duplicate_of: None,
                            created_at: now,
                            updated_at: now,
                        };
                        repo::insert_strategy(conn, &child_row)?;
                        record_creation(conn, &child_row, "mutation", child.kind.as_str())?;
                        repo::insert_lineage(
                            conn,
                            &LineageRow {
                                id: Uuid::new_v4(),
                                parent_id: id,
                                child_id: child_row.id,
                                mutation_type: child.kind.as_str().into(),
                                mutation_detail: child.detail.chars().take(500).collect(),
                                generation,
                                royalty_percent_parent: parent_percent,
                                royalty_percent_child: rust_decimal::Decimal::ONE_HUNDRED
                                    - parent_percent,
                                created_at: now,
                            },
                        )?;
                        bred = true;
                    }
                }
                Ok::<_, MarketplaceError>((Some(status), bred))
            })
            .await?;
        match status {
            Some(StrategyStatus::Candidate) if row.status == "experiment" => report.promoted += 1,
            Some(StrategyStatus::Discarded) => report.discarded += 1,
            _ => {}
        }
        if bred {
            report.children += 1;
        }
    }
    Ok(report)
}
