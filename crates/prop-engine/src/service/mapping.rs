//! Row-to-view conversions: the stored rows of prop tables turned into the views the service
//! answers and the in-memory values of the pure core ([`PaperAccount`], [`Balances`]).
//!
//! A stored text that does not parse is corrupt data, never read as a default. Nothing here
//! touches the database.

use std::str::FromStr;

use clones_market::Side;
use rust_decimal::Decimal;

use super::corrupt;
use crate::fill::{FillSource, TimeInForce};
use crate::gates::{AccountStatus, RiskLimits};
use crate::ledger::{Balances, LedgerAccount};
use crate::models::{
    AccountRow, AuditRow, BalanceRow, EquitySnapshotRow, FillRow, LimitsRow, OrderRow, PositionRow,
};
use crate::paper::PaperAccount;
use crate::position::Position;
use crate::views::{
    AccountContext, AccountView, AuditEntry, EquityPoint, FillView, OrderStatus, OrderView,
    PositionView,
};
use crate::{PropError, money};

pub(super) fn limits_of(row: &LimitsRow) -> RiskLimits {
    RiskLimits {
        max_order_notional: row.max_order_notional,
        max_leverage: row.max_leverage,
        max_position_notional: row.max_position_notional,
        max_gross_exposure: row.max_gross_exposure,
        daily_loss_limit: row.daily_loss_limit,
        max_orders_per_minute: u32::try_from(row.max_orders_per_minute).unwrap_or(0),
        allowed_instruments: row
            .allowed_instruments
            .as_ref()
            .map(|list| list.iter().flatten().cloned().collect()),
    }
}

pub(super) fn status_of(row: &AccountRow) -> Result<AccountStatus, PropError> {
    AccountStatus::parse(&row.status).ok_or_else(|| corrupt("account status"))
}

pub(super) fn account_view(
    row: &AccountRow,
    limits: &LimitsRow,
    cash: Decimal,
) -> Result<AccountView, PropError> {
    Ok(AccountView {
        id: row.id,
        owner_user_id: row.owner_user_id,
        clone_id: row.clone_id,
        context: AccountContext::parse(&row.context).ok_or_else(|| corrupt("account context"))?,
        quote_currency: row.quote_currency.clone(),
        starting_balance: row.starting_balance,
        cash,
        peak_equity: row.peak_equity,
        status: status_of(row)?,
        halted_reason: row.halted_reason.clone(),
        limits: limits_of(limits),
        last_mtm_at: row.last_mtm_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn side_of(value: &str) -> Result<Side, PropError> {
    Side::from_str(value).map_err(|error| corrupt(error.to_string()))
}

pub(super) fn source_of(value: &str) -> Result<FillSource, PropError> {
    match value {
        "book" => Ok(FillSource::Book),
        "mid_slippage" => Ok(FillSource::MidSlippage),
        _ => Err(corrupt("fill source")),
    }
}

pub(super) fn order_view(row: &OrderRow, fills: &[FillRow]) -> Result<OrderView, PropError> {
    let filled_size: Decimal = fills.iter().map(|fill| fill.size).sum();
    let notional: Decimal = fills.iter().map(|fill| fill.size * fill.price).sum();
    Ok(OrderView {
        id: row.id,
        account_id: row.account_id,
        decision_action_id: row.decision_action_id.clone(),
        instrument: row.instrument.clone(),
        side: side_of(&row.side)?,
        order_type: row.order_type.clone(),
        size: row.size,
        limit_price: row.limit_price,
        reduce_only: row.reduce_only,
        time_in_force: TimeInForce::from_str(&row.time_in_force).map_err(corrupt)?,
        status: OrderStatus::parse(&row.status).ok_or_else(|| corrupt("order status"))?,
        filled_size,
        avg_fill_price: (!filled_size.is_zero()).then(|| money(notional / filled_size)),
        fees: fills.iter().map(|fill| fill.fee).sum(),
        realized_pnl: fills.iter().map(|fill| fill.realized_pnl).sum(),
        fill_source: fills
            .first()
            .map(|fill| source_of(&fill.source))
            .transpose()?,
        rejection_code: row.rejection_code.clone(),
        rejection_detail: row.rejection_detail.clone(),
        created_at: row.created_at,
    })
}

pub(super) fn fill_view(row: &FillRow) -> Result<FillView, PropError> {
    Ok(FillView {
        id: row.id,
        order_id: row.order_id,
        seq: row.seq,
        instrument: row.instrument.clone(),
        side: side_of(&row.side)?,
        price: row.price,
        size: row.size,
        fee: row.fee,
        realized_pnl: row.realized_pnl,
        source: source_of(&row.source)?,
        created_at: row.created_at,
    })
}

pub(super) fn position_view(row: &PositionRow) -> PositionView {
    PositionView {
        instrument: row.instrument.clone(),
        kind: row.kind.clone(),
        size: row.size,
        avg_entry: row.avg_entry,
        realized_pnl: row.realized_pnl,
        funding_paid: row.funding_paid,
        last_funding_at: row.last_funding_at,
        settled_at: row.settled_at,
        updated_at: row.updated_at,
    }
}

pub(super) fn equity_point(row: &EquitySnapshotRow) -> EquityPoint {
    EquityPoint {
        at: row.at,
        equity: row.equity,
        cash: row.cash,
        unrealized_pnl: row.unrealized_pnl,
        used_margin: row.used_margin,
        gross_exposure: row.gross_exposure,
        peak_equity: row.peak_equity,
        drawdown: row.drawdown,
    }
}

pub(super) fn audit_view(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        admin_user_id: row.admin_user_id,
        account_id: row.account_id,
        action: row.action,
        reason: row.reason,
        details: row.details,
        created_at: row.created_at,
    }
}

pub(super) fn balances_from(rows: &[BalanceRow]) -> Result<Balances, PropError> {
    rows.iter()
        .map(|row| {
            LedgerAccount::from_str(&row.ledger_account)
                .map(|account| (account, row.balance))
                .map_err(corrupt)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Balances::from_pairs)
}

pub(super) fn paper_from(
    balances: &[BalanceRow],
    positions: &[PositionRow],
) -> Result<PaperAccount, PropError> {
    Ok(PaperAccount {
        balances: balances_from(balances)?,
        positions: positions
            .iter()
            .map(|row| {
                (
                    row.instrument.clone(),
                    Position::new(row.size, row.avg_entry),
                )
            })
            .collect(),
    })
}

/// A paper account from the order path's compact read: balances by ledger account and
/// positions as (instrument, size, average entry).
pub(super) fn paper_from_parts(
    balances: &[(String, Decimal)],
    positions: &[(String, Decimal, Decimal)],
) -> Result<PaperAccount, PropError> {
    Ok(PaperAccount {
        balances: balances
            .iter()
            .map(|(name, balance)| {
                LedgerAccount::from_str(name)
                    .map(|account| (account, *balance))
                    .map_err(corrupt)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Balances::from_pairs)?,
        positions: positions
            .iter()
            .map(|(name, size, entry)| (name.clone(), Position::new(*size, *entry)))
            .collect(),
    })
}

pub(super) fn cash_of(rows: &[BalanceRow]) -> Decimal {
    rows.iter()
        .find(|row| row.ledger_account == LedgerAccount::Cash.as_str())
        .map(|row| row.balance)
        .unwrap_or_default()
}
