//! The mirror pipeline for one tenant target and one observed fill, in this order (never
//! reorder the claim and the place):
//!
//! 1. read the tenant's position (paper: its copy-mirror account);
//! 2. in one tenant transaction: claim the fill (insert the ledger row, `pending`, keyed by
//!    the idempotency key; a row already there is a repeat sighting and ends here), re-read
//!    the target (removed mid-poll: skipped), plan and authorise, and either record the skip
//!    with its decision or store the intent — and commit;
//! 3. send the order through the tenant's executor with the key as client order id;
//! 4. record the outcome and the decision, exactly once per row.
//!
//! A crash between 2 and 4, or an ambiguous answer, leaves the row `pending` with its intent;
//! [`recover`] asks the venue what became of it (the paper venue answers a repeated key with
//! the first result), never sends a second order blindly.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgCopyTradeService;
use super::enumerator::{Enumerate, watched};
use super::targets::sizing_of;
use crate::executor::{ExecError, Executor, Placement, Route, outcome_key};
use crate::fill::{ObservedFill, TradeSide};
use crate::grant::{Grant, GrantUsage, authorize};
use crate::ids::IdempotencyKey;
use crate::models::{DecisionRow, GrantRow, LedgerRow, TargetRow};
use crate::plan::{MarketRules, MirrorIntent, PlanInput, TargetPolicy, plan};
use crate::views::TickReport;
use crate::{CopyTradeError, repo};

/// How step 2 ended.
enum Claim {
    /// The key was already in the ledger.
    Duplicate,
    /// Recorded as skipped, with its decision.
    Skipped,
    /// The intent is stored; the order is to be sent.
    Send {
        ledger_id: Uuid,
        intent: MirrorIntent,
        route: Route,
        executor: String,
    },
}

/// How one row ended for this pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Placed,
    Error,
    Unresolved,
}

pub(super) async fn mirror(
    service: &PgCopyTradeService,
    wallet: &str,
    fills: &[ObservedFill],
) -> Result<TickReport, CopyTradeError> {
    let targets = watched(service, Enumerate::Wallet(wallet.to_ascii_lowercase()))
        .await?
        .targets;
    let mut report = TickReport::default();
    for target in &targets {
        // The tenant's paper account, read once per target; positions are read per fill.
        let account = match paper_account(service, target.owner_user_id).await {
            Ok(account) => account,
            Err(error) => {
                tracing::warn!(target = %target.id, %error, "mirror tick error");
                report.examined += fills.len();
                report.errors += fills.len();
                continue;
            }
        };
        for fill in fills {
            report.examined += 1;
            match mirror_one(service, target, account, fill).await {
                Ok(Some(Ended::Placed)) => report.placed += 1,
                Ok(Some(Ended::Error)) => report.errors += 1,
                Ok(Some(Ended::Unresolved)) => report.unresolved += 1,
                Ok(None) => {}
                Err(Outcome::Duplicate) => report.duplicates += 1,
                Err(Outcome::Skipped) => report.skipped += 1,
                Err(Outcome::Failed(error)) => {
                    // The claim did not commit (or never began): the next sighting retries.
                    tracing::warn!(target = %target.id, fill = %fill.fill_id, %error, "mirror tick error");
                    report.errors += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Why [`mirror_one`] sent nothing.
enum Outcome {
    Duplicate,
    Skipped,
    Failed(CopyTradeError),
}

impl From<CopyTradeError> for Outcome {
    fn from(error: CopyTradeError) -> Self {
        Outcome::Failed(error)
    }
}

/// The tenant's copy-mirror paper account, if its grant has one.
async fn paper_account(
    service: &PgCopyTradeService,
    owner: Uuid,
) -> Result<Option<Uuid>, CopyTradeError> {
    Ok(service
        .as_owner(owner, move |conn, _| Ok(repo::grant(conn, owner)?))
        .await?
        .and_then(|grant| grant.paper_account_id))
}

/// The tenant's shares of `asset` in its paper account (0 without one).
async fn position(
    service: &PgCopyTradeService,
    owner: Uuid,
    account: Option<Uuid>,
    asset: &str,
) -> Result<Decimal, CopyTradeError> {
    let Some(account) = account else {
        return Ok(Decimal::ZERO);
    };
    let Ok(key) = outcome_key(asset) else {
        return Ok(Decimal::ZERO);
    };
    let key = key.to_string();
    Ok(service
        .prop
        .positions(owner, account)
        .await?
        .into_iter()
        .find(|position| position.instrument == key)
        .map_or(Decimal::ZERO, |position| position.size))
}

fn grant_of(row: &GrantRow) -> Grant {
    Grant {
        per_order_usdc_cap: row.per_order_usdc_cap,
        daily_usdc_cap: row.daily_usdc_cap,
        hourly_fills_cap: u32::try_from(row.hourly_fills_cap).unwrap_or(0),
    }
}

/// The start of `now`'s UTC day.
fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |midnight| midnight.and_utc())
}

async fn mirror_one(
    service: &PgCopyTradeService,
    target: &TargetRow,
    account: Option<Uuid>,
    fill: &ObservedFill,
) -> Result<Option<Ended>, Outcome> {
    let owner = target.owner_user_id;
    let key = IdempotencyKey::of(target.target_id, &fill.fill_id);
    let held = position(service, owner, account, &fill.asset).await?;
    let document =
        serde_json::to_value(fill).map_err(|error| CopyTradeError::Corrupt(error.to_string()))?;
    let (target_row, wallet_id, fill_copy) = (target.id, target.target_id, fill.clone());
    let window = service.settings.percentile_window;
    let claim = service
        .as_owner(owner, move |conn, now| {
            let row = LedgerRow {
                id: Uuid::new_v4(),
                owner_user_id: owner,
                target_row_id: target_row,
                target_id: wallet_id,
                fill_id: fill_copy.fill_id.clone(),
                idempotency_key: key.to_hex(),
                fill: document,
                side: None,
                size: None,
                limit_price: None,
                status: "pending".into(),
                venue_order_id: None,
                observed_at: now,
                updated_at: now,
                synced_at: None,
                executor: None,
            };
            if !repo::claim(conn, &row)? {
                return Ok(Claim::Duplicate);
            }
            let current = repo::live_target(conn, target_row)?;
            let grant = repo::grant(conn, owner)?;
            let policy = match &current {
                Some(target) => TargetPolicy {
                    filter_percentile: target.filter_percentile.and_then(|p| u8::try_from(p).ok()),
                    max_usdc_per_trade: target.max_usdc_per_trade,
                    max_position_usdc: target.max_position_usdc,
                    sizing: sizing_of(target)?,
                },
                None => TargetPolicy {
                    filter_percentile: None,
                    max_usdc_per_trade: Decimal::ZERO,
                    max_position_usdc: None,
                    sizing: crate::plan::Sizing::Fixed { usdc: Decimal::ZERO },
                },
            };
            let recent: Vec<Decimal> = repo::recent_fills(conn, target_row, window)?
                .into_iter()
                .filter_map(|value| serde_json::from_value::<ObservedFill>(value).ok())
                .map(|seen| seen.notional())
                .collect();
            let today = repo::sent_since(conn, owner, day_start(now))?;
            let hour = now - Duration::hours(1);
            let usage = GrantUsage {
                usdc_today: today.iter().map(|(size, price)| size * price).sum(),
                fills_last_hour: u32::try_from(repo::sent_since(conn, owner, hour)?.len())
                    .unwrap_or(u32::MAX),
            };
            let decided = plan(&PlanInput {
                fill: &fill_copy,
                policy: &policy,
                target_active: current.as_ref().is_some_and(|target| target.active),
                kill_switch: grant.as_ref().is_some_and(|grant| grant.kill_switch),
                already_recorded: false,
                position_shares: held,
                recent_notionals: &recent,
                market: MarketRules::default(),
            })
            .and_then(|intent| {
                authorize(&intent, grant.as_ref().map(grant_of).as_ref(), usage).map(|()| intent)
            });
            match decided {
                Err(reason) => {
                    repo::settle(conn, row.id, "skipped", None, None, false, now)?;
                    decide(conn, &row, "skipped", Some(reason.as_str()), None, now)?;
                    tracing::info!(outcome = "skipped", reason = reason.as_str(), key = %row.idempotency_key, "copy-mirror decision");
                    Ok(Claim::Skipped)
                }
                Ok(intent) => {
                    let grant = grant.ok_or_else(|| CopyTradeError::Corrupt("authorised without a grant".into()))?;
                    let stored = repo::Intent {
                        side: intent.side.as_str(),
                        size: intent.size,
                        limit_price: intent.limit_price,
                        executor: &grant.executor,
                    };
                    repo::set_intent(conn, row.id, &stored, now)?;
                    Ok(Claim::Send {
                        ledger_id: row.id,
                        intent,
                        route: Route {
                            owner,
                            paper_account: grant.paper_account_id,
                            claimed_at: now,
                        },
                        executor: grant.executor,
                    })
                }
            }
        })
        .await?;
    let (ledger_id, intent, route, executor) = match claim {
        Claim::Duplicate => return Err(Outcome::Duplicate),
        Claim::Skipped => return Err(Outcome::Skipped),
        Claim::Send {
            ledger_id,
            intent,
            route,
            executor,
        } => (ledger_id, intent, route, executor),
    };
    let result = match executor_for(service, &executor) {
        Some(executor) => executor.place(route, &intent, &key).await,
        None => Err(ExecError::NotSent(format!(
            "executor `{executor}` is not configured"
        ))),
    };
    Ok(Some(
        record(service, owner, ledger_id, &intent, result).await?,
    ))
}

pub(super) fn executor_for<'a>(
    service: &'a PgCopyTradeService,
    name: &str,
) -> Option<&'a dyn Executor> {
    match name {
        "paper" => Some(service.paper.as_ref()),
        "clob" => service.clob.as_deref(),
        _ => None,
    }
}

fn decide(
    conn: &mut diesel::PgConnection,
    row: &LedgerRow,
    outcome: &str,
    reason: Option<&str>,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), CopyTradeError> {
    repo::insert_decision(
        conn,
        &DecisionRow {
            id: Uuid::new_v4(),
            owner_user_id: row.owner_user_id,
            ledger_id: row.id,
            idempotency_key: row.idempotency_key.clone(),
            outcome: outcome.into(),
            reason: reason.map(str::to_string),
            detail: detail.map(|text| text.chars().take(2000).collect()),
            created_at: now,
        },
    )?;
    Ok(())
}

/// Step 4: the outcome and the decision, unless the row already has one.
async fn record(
    service: &PgCopyTradeService,
    owner: Uuid,
    ledger_id: Uuid,
    intent: &MirrorIntent,
    result: Result<Placement, ExecError>,
) -> Result<Ended, CopyTradeError> {
    if let Err(ExecError::Ambiguous(detail)) = &result {
        tracing::warn!(ledger = %ledger_id, %detail, "copy-mirror order outcome unknown; recovery will ask the venue");
        return Ok(Ended::Unresolved);
    }
    let size = intent.size;
    service
        .as_owner(owner, move |conn, now| {
            let Some(row) = repo::lock_row(conn, ledger_id)? else {
                return Err(CopyTradeError::Corrupt(format!("ledger row {ledger_id} vanished")));
            };
            if repo::has_decision(conn, ledger_id)? {
                return Ok(Ended::Placed);
            }
            let ended = match &result {
                Ok(Placement::Accepted {
                    venue_order_id,
                    filled,
                    done,
                }) => {
                    let status = order_status(*filled, size, *done);
                    repo::settle(conn, ledger_id, status, Some(venue_order_id), Some(*filled), true, now)?;
                    decide(conn, &row, "placed", None, None, now)?;
                    tracing::info!(outcome = "placed", status, key = %row.idempotency_key, "copy-mirror decision");
                    Ended::Placed
                }
                Ok(Placement::Rejected { reason }) => {
                    repo::settle(conn, ledger_id, "rejected", None, None, true, now)?;
                    decide(conn, &row, "error", Some("venue_rejected"), Some(reason.clone()), now)?;
                    Ended::Error
                }
                Err(error) => {
                    repo::settle(conn, ledger_id, "error", None, None, false, now)?;
                    decide(conn, &row, "error", Some("not_sent"), Some(error.to_string()), now)?;
                    Ended::Error
                }
            };
            Ok(ended)
        })
        .await
}

/// The ledger status of an accepted order that filled `filled` of `size` shares.
pub(super) fn order_status(filled: Decimal, size: Decimal, done: bool) -> &'static str {
    if filled >= size {
        "filled"
    } else if filled > Decimal::ZERO {
        if done { "canceled" } else { "partially_filled" }
    } else if done {
        "unfilled"
    } else {
        "placed"
    }
}

/// Rows claimed with an intent but without an outcome past the grace: the venue is asked
/// what became of each (reconcile), and the answer recorded.
pub(super) async fn recover(service: &PgCopyTradeService) -> Result<TickReport, CopyTradeError> {
    let owners = watched(service, Enumerate::Stuck).await?.stuck_owners;
    let before = service.clock.now() - service.settings.recovery_grace;
    let mut report = TickReport::default();
    for owner in owners {
        let (rows, grant) = service
            .as_owner(owner, move |conn, _| {
                Ok((repo::stuck(conn, owner, before)?, repo::grant(conn, owner)?))
            })
            .await?;
        let Some(grant) = grant else { continue };
        let by_target: BTreeMap<Uuid, Vec<LedgerRow>> =
            rows.into_iter().fold(BTreeMap::new(), |mut map, row| {
                map.entry(row.target_row_id).or_default().push(row);
                map
            });
        for row in by_target.into_values().flatten() {
            report.examined += 1;
            let (Some(side), Some(size), Some(limit_price)) =
                (row.side.as_deref(), row.size, row.limit_price)
            else {
                continue;
            };
            let fill: ObservedFill = serde_json::from_value(row.fill.clone()).map_err(|error| {
                CopyTradeError::Corrupt(format!("ledger {} fill: {error}", row.id))
            })?;
            let intent = MirrorIntent {
                asset: fill.asset,
                side: if side == "SELL" {
                    TradeSide::Sell
                } else {
                    TradeSide::Buy
                },
                size,
                limit_price,
            };
            let key = IdempotencyKey::of(row.target_id, &row.fill_id);
            let route = Route {
                owner,
                paper_account: grant.paper_account_id,
                claimed_at: row.observed_at,
            };
            // The venue the order went to, even if the grant has moved on since.
            let name = row.executor.as_deref().unwrap_or(&grant.executor);
            let Some(executor) = executor_for(service, name) else {
                continue;
            };
            let result = match executor.reconcile(route, &intent, &key).await {
                Ok(Some(placement)) => Ok(placement),
                // The venue never received it: sending it now is its first and only send.
                Ok(None) => executor.place(route, &intent, &key).await,
                Err(error) => Err(error),
            };
            match record(service, owner, row.id, &intent, result).await? {
                Ended::Placed => report.placed += 1,
                Ended::Error => report.errors += 1,
                Ended::Unresolved => report.unresolved += 1,
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_starts_at_utc_midnight() {
        let at: DateTime<Utc> = "2026-12-06T15:04:05Z".parse().unwrap_or_default();
        assert_eq!(day_start(at).to_rfc3339(), "2026-12-06T00:00:00+00:00");
    }
}
