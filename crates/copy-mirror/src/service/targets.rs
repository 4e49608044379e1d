//! The owner's side: targets and their policy, the grant and kill switch, and the ledger and
//! decision reads. Every call runs as the owner, so another tenant's rows are invisible.

use clones_kernel::{Cursor, Page, PageRequest};
use clones_prop_engine::{AccountContext, OpenAccount};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::PgCopyTradeService;
use crate::grant::{SAFETY_DAILY_USDC, SAFETY_HOURLY_FILLS};
use crate::ids::target_id;
use crate::models::{DecisionRow, GrantRow, LedgerRow, TargetRow};
use crate::plan::{SAFETY_MAX_POSITION_USDC, SAFETY_MAX_USDC_PER_TRADE, Sizing};
use crate::views::{
    DecisionView, ExecutorKind, GrantRequest, GrantView, LedgerView, NewTarget, SyncHealth,
    TargetPatch, TargetView,
};
use crate::{CopyTradeError, repo};

fn invalid(message: impl Into<String>) -> CopyTradeError {
    CopyTradeError::InvalidInput(message.into())
}

fn check_wallet(wallet: &str) -> Result<String, CopyTradeError> {
    let lower = wallet.to_ascii_lowercase();
    let hex = lower.strip_prefix("0x").unwrap_or_default();
    if hex.len() != 40 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(invalid("wallet must be 0x followed by 40 hex digits"));
    }
    Ok(lower)
}

fn check_policy(
    percentile: Option<u8>,
    per_trade: Decimal,
    position: Option<Decimal>,
    sizing: &Sizing,
) -> Result<(), CopyTradeError> {
    if percentile.is_some_and(|p| p > 99) {
        return Err(invalid("filterPercentile must be 0-99"));
    }
    if per_trade <= Decimal::ZERO || per_trade > SAFETY_MAX_USDC_PER_TRADE {
        return Err(invalid(format!(
            "maxUsdcPerTrade must be above 0 and at most {SAFETY_MAX_USDC_PER_TRADE}"
        )));
    }
    if position.is_some_and(|cap| cap <= Decimal::ZERO || cap > SAFETY_MAX_POSITION_USDC) {
        return Err(invalid(format!(
            "maxPositionUsdc must be above 0 and at most {SAFETY_MAX_POSITION_USDC}"
        )));
    }
    match sizing {
        Sizing::Proportional { ratio } if *ratio <= Decimal::ZERO || *ratio > Decimal::ONE => {
            Err(invalid("sizing.ratio must be above 0 and at most 1"))
        }
        Sizing::Fixed { usdc } if *usdc <= Decimal::ZERO || *usdc > SAFETY_MAX_USDC_PER_TRADE => {
            Err(invalid(format!(
                "sizing.usdc must be above 0 and at most {SAFETY_MAX_USDC_PER_TRADE}"
            )))
        }
        _ => Ok(()),
    }
}

fn check_label(label: Option<&String>) -> Result<(), CopyTradeError> {
    if label.is_some_and(|label| {
        label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control)
    }) {
        return Err(invalid(
            "label must be 1-100 characters without control characters",
        ));
    }
    Ok(())
}

pub(crate) fn sizing_of(row: &TargetRow) -> Result<Sizing, CopyTradeError> {
    serde_json::from_value(row.sizing.clone())
        .map_err(|error| CopyTradeError::Corrupt(format!("target {} sizing: {error}", row.id)))
}

pub(crate) fn target_view(row: TargetRow) -> Result<TargetView, CopyTradeError> {
    Ok(TargetView {
        sizing: sizing_of(&row)?,
        id: row.id,
        target_id: row.target_id,
        wallet: row.wallet,
        label: row.label,
        active: row.active,
        filter_percentile: row.filter_percentile.and_then(|p| u8::try_from(p).ok()),
        max_usdc_per_trade: row.max_usdc_per_trade,
        max_position_usdc: row.max_position_usdc,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn sizing_json(sizing: &Sizing) -> Result<serde_json::Value, CopyTradeError> {
    serde_json::to_value(sizing).map_err(|error| CopyTradeError::Corrupt(error.to_string()))
}

pub(super) async fn add(
    service: &PgCopyTradeService,
    owner: Uuid,
    target: NewTarget,
) -> Result<TargetView, CopyTradeError> {
    let wallet = check_wallet(&target.wallet)?;
    check_label(target.label.as_ref())?;
    check_policy(
        target.filter_percentile,
        target.max_usdc_per_trade,
        target.max_position_usdc,
        &target.sizing,
    )?;
    let sizing = sizing_json(&target.sizing)?;
    service
        .as_owner(owner, move |conn, now| {
            let row = TargetRow {
                id: Uuid::new_v4(),
                owner_user_id: owner,
                target_id: target_id(&wallet),
                wallet,
                label: target.label,
                active: true,
                filter_percentile: target.filter_percentile.map(i16::from),
                max_usdc_per_trade: target.max_usdc_per_trade,
                max_position_usdc: target.max_position_usdc,
                sizing,
                created_at: now,
                updated_at: now,
                removed_at: None,
            };
            match repo::insert_target(conn, &row) {
                Err(error)
                    if clones_db::is_unique_violation(
                        &error,
                        Some("copy_trade_targets_live_idx"),
                    ) =>
                {
                    return Err(CopyTradeError::DuplicateTarget);
                }
                other => other?,
            }
            target_view(row)
        })
        .await
}

pub(super) async fn list(
    service: &PgCopyTradeService,
    owner: Uuid,
    page: PageRequest,
) -> Result<Page<TargetView>, CopyTradeError> {
    service
        .as_owner(owner, move |conn, _| {
            let rows = repo::targets_page(conn, &page)?;
            let page = Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id));
            let items = page
                .items
                .into_iter()
                .map(target_view)
                .collect::<Result<_, _>>()?;
            Ok(Page {
                items,
                next_cursor: page.next_cursor,
            })
        })
        .await
}

pub(super) async fn update(
    service: &PgCopyTradeService,
    owner: Uuid,
    id: Uuid,
    patch: TargetPatch,
) -> Result<TargetView, CopyTradeError> {
    check_label(patch.label.as_ref())?;
    service
        .as_owner(owner, move |conn, now| {
            let mut row = repo::live_target(conn, id)?.ok_or(CopyTradeError::TargetNotFound)?;
            let sizing = match patch.sizing {
                Some(sizing) => sizing,
                None => sizing_of(&row)?,
            };
            if let Some(active) = patch.active {
                row.active = active;
            }
            if patch.label.is_some() {
                row.label = patch.label;
            }
            if patch.clear_filter {
                row.filter_percentile = None;
            } else if let Some(p) = patch.filter_percentile {
                row.filter_percentile = Some(i16::from(p));
            }
            if let Some(cap) = patch.max_usdc_per_trade {
                row.max_usdc_per_trade = cap;
            }
            if patch.max_position_usdc.is_some() {
                row.max_position_usdc = patch.max_position_usdc;
            }
            check_policy(
                row.filter_percentile.and_then(|p| u8::try_from(p).ok()),
                row.max_usdc_per_trade,
                row.max_position_usdc,
                &sizing,
            )?;
            row.sizing = sizing_json(&sizing)?;
            row.updated_at = now;
            repo::update_target(conn, &row)?;
            target_view(row)
        })
        .await
}

pub(super) async fn remove(
    service: &PgCopyTradeService,
    owner: Uuid,
    id: Uuid,
) -> Result<(), CopyTradeError> {
    service
        .as_owner(owner, move |conn, now| {
            let mut row = repo::live_target(conn, id)?.ok_or(CopyTradeError::TargetNotFound)?;
            row.active = false;
            row.removed_at = Some(now);
            row.updated_at = now;
            repo::update_target(conn, &row)?;
            Ok(())
        })
        .await
}

fn grant_view(row: GrantRow) -> Result<GrantView, CopyTradeError> {
    Ok(GrantView {
        per_order_usdc_cap: row.per_order_usdc_cap,
        daily_usdc_cap: row.daily_usdc_cap,
        hourly_fills_cap: u32::try_from(row.hourly_fills_cap).unwrap_or(0),
        kill_switch: row.kill_switch,
        executor: match row.executor.as_str() {
            "paper" => ExecutorKind::Paper,
            "clob" => ExecutorKind::Clob,
            other => return Err(CopyTradeError::Corrupt(format!("executor `{other}`"))),
        },
        paper_account_id: row.paper_account_id,
        updated_at: row.updated_at,
    })
}

pub(super) async fn grant(
    service: &PgCopyTradeService,
    owner: Uuid,
) -> Result<Option<GrantView>, CopyTradeError> {
    service
        .as_owner(owner, move |conn, _| {
            repo::grant(conn, owner)?.map(grant_view).transpose()
        })
        .await
}

pub(super) async fn set_grant(
    service: &PgCopyTradeService,
    owner: Uuid,
    request: GrantRequest,
) -> Result<GrantView, CopyTradeError> {
    if request.per_order_usdc_cap <= Decimal::ZERO
        || request.per_order_usdc_cap > SAFETY_MAX_USDC_PER_TRADE
    {
        return Err(invalid(format!(
            "perOrderUsdcCap must be above 0 and at most {SAFETY_MAX_USDC_PER_TRADE}"
        )));
    }
    if request.daily_usdc_cap <= Decimal::ZERO || request.daily_usdc_cap > SAFETY_DAILY_USDC {
        return Err(invalid(format!(
            "dailyUsdcCap must be above 0 and at most {SAFETY_DAILY_USDC}"
        )));
    }
    if request.hourly_fills_cap == 0 || request.hourly_fills_cap > SAFETY_HOURLY_FILLS {
        return Err(invalid(format!(
            "hourlyFillsCap must be 1-{SAFETY_HOURLY_FILLS}"
        )));
    }
    let executor = request.executor.unwrap_or(ExecutorKind::Paper);
    let existing = service
        .as_owner(owner, move |conn, _| Ok(repo::grant(conn, owner)?))
        .await?;
    // The paper executor needs the tenant's copy-mirror account; it is opened once.
    let paper_account = match existing.as_ref().and_then(|row| row.paper_account_id) {
        Some(account) => Some(account),
        None if executor == ExecutorKind::Paper => Some(
            service
                .prop
                .open_account(
                    owner,
                    OpenAccount {
                        account_id: None,
                        clone_id: None,
                        context: AccountContext::CopyMirrorPaper,
                        quote_currency: "USDC".into(),
                        starting_balance: service.settings.paper_balance,
                        limits: None,
                    },
                )
                .await?
                .id,
        ),
        None => None,
    };
    service
        .as_owner(owner, move |conn, now| {
            let row = GrantRow {
                owner_user_id: owner,
                per_order_usdc_cap: request.per_order_usdc_cap,
                daily_usdc_cap: request.daily_usdc_cap,
                hourly_fills_cap: i32::try_from(request.hourly_fills_cap).unwrap_or(i32::MAX),
                kill_switch: existing.as_ref().is_some_and(|row| row.kill_switch),
                executor: executor.as_str().into(),
                paper_account_id: paper_account,
                created_at: existing.as_ref().map_or(now, |row| row.created_at),
                updated_at: now,
            };
            grant_view(repo::upsert_grant(conn, &row)?)
        })
        .await
}

pub(super) async fn set_kill_switch(
    service: &PgCopyTradeService,
    owner: Uuid,
    on: bool,
) -> Result<GrantView, CopyTradeError> {
    service
        .as_owner(owner, move |conn, now| {
            let mut row = repo::grant(conn, owner)?.ok_or(CopyTradeError::GrantNotFound)?;
            row.kill_switch = on;
            row.updated_at = now;
            grant_view(repo::upsert_grant(conn, &row)?)
        })
        .await
}

pub(super) async fn sync_health(
    service: &PgCopyTradeService,
    owner: Uuid,
) -> Result<SyncHealth, CopyTradeError> {
    service
        .as_owner(owner, move |conn, now| {
            let facts = repo::sync_facts(conn, owner)?;
            Ok(SyncHealth {
                open_orders: u64::try_from(facts.open).unwrap_or(0),
                oldest_unconfirmed_secs: facts
                    .oldest_open
                    .map(|at| u64::try_from((now - at).num_seconds().max(0)).unwrap_or(0)),
                last_synced_at: facts.last_synced,
                checked_at: now,
                positions: repo::clob_account(conn, owner)?
                    .as_ref()
                    .and_then(super::positions::check_view),
            })
        })
        .await
}

fn ledger_view(row: LedgerRow) -> LedgerView {
    LedgerView {
        id: row.id,
        target: row.target_row_id,
        fill_id: row.fill_id,
        idempotency_key: row.idempotency_key,
        fill: row.fill,
        side: row.side,
        size: row.size,
        limit_price: row.limit_price,
        status: row.status,
        venue_order_id: row.venue_order_id,
        observed_at: row.observed_at,
        synced_at: row.synced_at,
    }
}

fn decision_view(row: DecisionRow) -> DecisionView {
    DecisionView {
        id: row.id,
        ledger_id: row.ledger_id,
        idempotency_key: row.idempotency_key,
        outcome: row.outcome,
        reason: row.reason,
        detail: row.detail,
        created_at: row.created_at,
    }
}

pub(super) async fn fills(
    service: &PgCopyTradeService,
    owner: Uuid,
    page: PageRequest,
) -> Result<Page<LedgerView>, CopyTradeError> {
    service
        .as_owner(owner, move |conn, _| {
            let rows = repo::ledger_page(conn, &page)?;
            Ok(
                Page::from_rows(rows, &page, |row| Cursor::new(row.observed_at, row.id))
                    .map(ledger_view),
            )
        })
        .await
}

pub(super) async fn decisions(
    service: &PgCopyTradeService,
    owner: Uuid,
    page: PageRequest,
) -> Result<Page<DecisionView>, CopyTradeError> {
    service
        .as_owner(owner, move |conn, _| {
            let rows = repo::decisions_page(conn, &page)?;
            Ok(
                Page::from_rows(rows, &page, |row| Cursor::new(row.created_at, row.id))
                    .map(decision_view),
            )
        })
        .await
}
