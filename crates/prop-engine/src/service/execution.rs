//! The write paths of an account's life before marking: opening an account with its limits
//! and opening ledger event, and executing an order (gates, fill simulation, fills, position,
//! ledger event and balances) in one transaction per order.
//!
//! Market data is read through the feed before the transaction opens; the transaction itself
//! reads nothing but the database, so a slow feed never holds the account's row lock.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use clones_market::{InstrumentKey, InstrumentKind};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::mapping::{
    account_view, cash_of, fill_view, limits_of, order_view, paper_from, status_of,
};
use super::{MAX_ACTION_ID_LEN, MAX_AMOUNT, PgPropService, PropSettings, corrupt};
use crate::feed::{InstrumentInfo, MarketQuote};
use crate::fill::{self, OrderSpec, OrderType, TimeInForce};
use crate::gates::{self, AccountSnapshot, AccountStatus, OrderCheck, RiskLimits};
use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow, PositionRow};
use crate::paper::PaperAccount;
use crate::views::{AccountView, OpenAccount, OrderOutcome, OrderRequest, OrderStatus};
use crate::{PropError, repo};

fn check_amount(name: &str, value: Decimal, allow_zero: bool) -> Result<(), PropError> {
    let sign_ok = if allow_zero {
        value >= Decimal::ZERO
    } else {
        value > Decimal::ZERO
    };
    if !sign_ok || value > MAX_AMOUNT || value.scale() > crate::SCALE {
        return Err(PropError::InvalidInput(format!(
            "{name} must be {} and at most {MAX_AMOUNT} with at most {} decimals",
            if allow_zero {
                "non-negative"
            } else {
                "positive"
            },
            crate::SCALE
        )));
    }
    Ok(())
}

fn validate_limits(limits: &RiskLimits) -> Result<(), PropError> {
    check_amount("maxOrderNotional", limits.max_order_notional, false)?;
    check_amount("maxPositionNotional", limits.max_position_notional, false)?;
    check_amount("maxGrossExposure", limits.max_gross_exposure, false)?;
    check_amount("dailyLossLimit", limits.daily_loss_limit, true)?;
    if limits.max_leverage <= Decimal::ZERO || limits.max_leverage > Decimal::from(100) {
        return Err(PropError::InvalidInput(
            "max_leverage must be in (0, 100]".into(),
        ));
    }
    if limits.max_orders_per_minute == 0 || limits.max_orders_per_minute > 10_000 {
        return Err(PropError::InvalidInput(
            "max_orders_per_minute must be in 1..=10000".into(),
        ));
    }
    if let Some(list) = &limits.allowed_instruments
        && (list.len() > 1000
            || list
                .iter()
                .any(|entry| entry.is_empty() || entry.len() > 160))
    {
        return Err(PropError::InvalidInput(
            "allowed_instruments entries must be 1..=160 characters (at most 1000)".into(),
        ));
    }
    Ok(())
}

fn validate_order(request: &OrderRequest) -> Result<InstrumentKey, PropError> {
    let instrument = InstrumentKey::parse(&request.instrument)
        .map_err(|error| PropError::InvalidInput(error.to_string()))?;
    check_amount("size", request.size, false)?;
    // Refused rather than quietly executed as `ioc`: a caller asking for a resting order must
    // not believe it has one.
    if request.time_in_force == TimeInForce::Gtc {
        return Err(PropError::InvalidInput(
            "timeInForce gtc (a resting order) is not supported: orders execute on arrival; \
             use ioc or fok"
                .into(),
        ));
    }
    if let Some(limit) = request.limit_price {
        check_amount("limitPrice", limit, false)?;
        if instrument.kind() == InstrumentKind::Outcome && limit > Decimal::ONE {
            return Err(PropError::InvalidInput(
                "outcome share prices are at most 1".into(),
            ));
        }
    }
    if let Some(action) = &request.decision_action_id
        && (action.is_empty()
            || action.len() > MAX_ACTION_ID_LEN
            || !action.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(PropError::InvalidInput(format!(
            "decisionActionId must be 1..={MAX_ACTION_ID_LEN} printable characters"
        )));
    }
    Ok(instrument)
}

fn outcome_of(
    conn: &mut PgConnection,
    order: &OrderRow,
    created: bool,
) -> Result<OrderOutcome, PropError> {
    let rows = repo::fills_of_order(conn, order.id)?;
    let fills = rows.iter().map(fill_view).collect::<Result<_, _>>()?;
    Ok(OrderOutcome {
        order: order_view(order, &rows)?,
        fills,
        created,
    })
}

/// Inserts the order; when a concurrent delivery of the same action won, returns that one.
fn insert_or_existing(
    conn: &mut PgConnection,
    row: &OrderRow,
) -> Result<Option<OrderOutcome>, PropError> {
    if repo::insert_order(conn, row)? {
        return Ok(None);
    }
    let action = row
        .decision_action_id
        .as_deref()
        .ok_or_else(|| corrupt("order conflict without an action id"))?;
    let existing = repo::order_by_action(conn, row.account_id, action)?
        .ok_or_else(|| corrupt("conflicting order is not visible"))?;
    outcome_of(conn, &existing, false).map(Some)
}

/// Everything read from the market before the order's transaction opens.
struct MarketView {
    info: Option<InstrumentInfo>,
    quote: Option<MarketQuote>,
    marks: BTreeMap<String, Decimal>,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one transaction body; every input is read before the transaction opens"
)]
fn execute_order(
    conn: &mut PgConnection,
    owner: Uuid,
    account_id: Uuid,
    request: &OrderRequest,
    instrument: &InstrumentKey,
    market: &MarketView,
    now: DateTime<Utc>,
    settings: &PropSettings,
) -> Result<OrderOutcome, PropError> {
    let account = repo::lock_account(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
    let limits =
        repo::limits_of(conn, account_id)?.ok_or_else(|| corrupt("account without limits"))?;
    if let Some(action) = &request.decision_action_id
        && let Some(existing) = repo::order_by_action(conn, account_id, action)?
    {
        return outcome_of(conn, &existing, false);
    }
    let balance_rows = repo::balances_of(conn, account_id)?;
    let position_rows = repo::positions_of(conn, account_id)?;
    let mut paper = paper_from(&balance_rows, &position_rows)?;
    let equity = paper.equity(&market.marks);
    let today = now.date_naive();
    let day_start_equity = if account.day_anchor < today {
        repo::roll_day(conn, account_id, today, equity, now)?;
        equity
    } else {
        account.day_start_equity
    };
    let recent = repo::count_orders_since(conn, account_id, now - Duration::minutes(1))?;
    let key = instrument.to_string();
    let snapshot = AccountSnapshot {
        status: status_of(&account)?,
        kill_switch: settings.kill_switch,
        equity,
        day_start_equity,
        gross_exposure: paper.gross_exposure(&market.marks),
        position: paper.position(&key),
        orders_last_minute: u32::try_from(recent).unwrap_or(u32::MAX),
    };
    let check = OrderCheck {
        instrument,
        info: market.info.as_ref(),
        price: market
            .quote
            .as_ref()
            .map(|quote| (quote.mid, now - quote.mid_at)),
        side: request.side,
        size: request.size,
        reduce_only: request.reduce_only,
    };
    let mut row = OrderRow {
        id: Uuid::new_v4(),
        account_id,
        owner_user_id: owner,
        decision_action_id: request.decision_action_id.clone(),
        instrument: key.clone(),
        side: request.side.as_str().into(),
        order_type: if request.limit_price.is_some() {
            "limit"
        } else {
            "market"
        }
        .into(),
        size: request.size,
        limit_price: request.limit_price,
        reduce_only: request.reduce_only,
        time_in_force: request.time_in_force.as_str().into(),
        status: OrderStatus::Rejected.as_str().into(),
        rejection_code: None,
        rejection_detail: None,
        created_at: now,
    };
    if let Err(rejection) = gates::check_order(
        &snapshot,
        &limits_of(&limits),
        &check,
        settings.fill.max_quote_age,
    ) {
        row.rejection_code = Some(rejection.reason.code().into());
        row.rejection_detail = Some(rejection.detail);
        if let Some(existing) = insert_or_existing(conn, &row)? {
            return Ok(existing);
        }
        return outcome_of(conn, &row, true);
    }
    let quote = market
        .quote
        .as_ref()
        .ok_or_else(|| corrupt("gates passed without a quote"))?;
    let spec = OrderSpec {
        side: request.side,
        size: request.size,
        order_type: match request.limit_price {
            Some(price) => OrderType::Limit { price },
            None => OrderType::Market,
        },
        time_in_force: request.time_in_force,
    };
    let execution = match fill::simulate(&spec, instrument.kind(), quote, now, &settings.fill) {
        Ok(execution) => execution,
        Err(no_fill) => {
            row.status = OrderStatus::Unfilled.as_str().into();
            row.rejection_code = Some(no_fill.code().into());
            row.rejection_detail = Some(format!("nothing filled: {}", no_fill.code()));
            if let Some(existing) = insert_or_existing(conn, &row)? {
                return Ok(existing);
            }
            return outcome_of(conn, &row, true);
        }
    };
    let before_flat = paper.position(&key).is_flat();
    let outcome = paper.execute(instrument, request.side, &execution, &settings.fill.fees);
    let filled = execution.filled_size();
    row.status = if filled == request.size {
        OrderStatus::Filled
    } else {
        OrderStatus::PartiallyFilled
    }
    .as_str()
    .into();

    if let Some(existing) = insert_or_existing(conn, &row)? {
        return Ok(existing);
    }
    let fills: Vec<FillRow> = outcome
        .fills
        .iter()
        .enumerate()
        .map(|(seq, record)| FillRow {
            id: Uuid::new_v4(),
            order_id: row.id,
            account_id,
            owner_user_id: owner,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            instrument: key.clone(),
            side: request.side.as_str().into(),
            price: record.price,
            size: record.size,
            fee: record.fee,
            realized_pnl: record.realized_pnl,
            source: execution.source.as_str().into(),
            created_at: now,
        })
        .collect();
    repo::insert_fills(conn, &fills)?;
    let previous = position_rows
        .iter()
        .find(|position| position.instrument == key);
    repo::upsert_position(
        conn,
        &PositionRow {
            account_id,
            instrument: key.clone(),
            owner_user_id: owner,
            kind: instrument.kind().as_str().into(),
            size: outcome.after.size,
            avg_entry: outcome.after.avg_entry,
            realized_pnl: previous.map(|p| p.realized_pnl).unwrap_or_default()
                + outcome.realized_pnl(),
            funding_paid: previous.map(|p| p.funding_paid).unwrap_or_default(),
            last_funding_at: previous.and_then(|p| p.last_funding_at),
            settled_at: None,
            opened_at: match previous {
                Some(p) if !before_flat => p.opened_at,
                _ => now,
            },
            updated_at: now,
        },
    )?;
    if let Some(event) = &outcome.event {
        repo::record_event(conn, account_id, owner, event, Some(row.id), Some(key), now)?;
    }
    outcome_of(conn, &row, true)
}

impl PgPropService {
    pub(super) async fn open_account_impl(
        &self,
        owner: Uuid,
        request: OpenAccount,
    ) -> Result<AccountView, PropError> {
        check_amount("startingBalance", request.starting_balance, false)?;
        let currency_ok = (2..=10).contains(&request.quote_currency.len())
            && request
                .quote_currency
                .bytes()
                .all(|b| b.is_ascii_uppercase());
        if !currency_ok {
            return Err(PropError::InvalidInput(
                "quote_currency must be 2..=10 upper-case letters".into(),
            ));
        }
        let limits = request
            .limits
            .clone()
            .unwrap_or_else(|| RiskLimits::for_balance(request.starting_balance));
        validate_limits(&limits)?;
        let now = self.clock.now();
        let row = AccountRow {
            id: request.account_id.unwrap_or_else(Uuid::new_v4),
            owner_user_id: owner,
            clone_id: request.clone_id,
            context: request.context.as_str().into(),
            quote_currency: request.quote_currency.clone(),
            starting_balance: request.starting_balance,
            status: AccountStatus::Active.as_str().into(),
            halted_reason: None,
            day_anchor: now.date_naive(),
            day_start_equity: request.starting_balance,
            peak_equity: request.starting_balance,
            last_mtm_at: None,
            created_at: now,
            updated_at: now,
        };
        let limits_row = LimitsRow {
            account_id: row.id,
            owner_user_id: owner,
            max_order_notional: limits.max_order_notional,
            max_leverage: limits.max_leverage,
            max_position_notional: limits.max_position_notional,
            max_gross_exposure: limits.max_gross_exposure,
            daily_loss_limit: limits.daily_loss_limit,
            max_orders_per_minute: i32::try_from(limits.max_orders_per_minute).unwrap_or(i32::MAX),
            allowed_instruments: limits
                .allowed_instruments
                .map(|list| list.into_iter().map(Some).collect()),
            updated_at: now,
        };
        self.db
            .tenant_transaction(owner, move |conn| {
                if !repo::insert_account(conn, &row)? {
                    // The id was opened before: by this same request repeated, or by another.
                    let existing = repo::find_account(conn, row.id)?
                        .filter(|existing| {
                            existing.owner_user_id == owner
                                && existing.clone_id == row.clone_id
                                && existing.context == row.context
                                && existing.quote_currency == row.quote_currency
                                && existing.starting_balance == row.starting_balance
                        })
                        .ok_or_else(|| {
                            PropError::InvalidInput(
                                "accountId is already used by another account".into(),
                            )
                        })?;
                    let balances = repo::balances_of(conn, existing.id)?;
                    let limits = repo::limits_of(conn, existing.id)?
                        .ok_or_else(|| corrupt("account without limits"))?;
                    return account_view(&existing, &limits, cash_of(&balances));
                }
                repo::insert_limits(conn, &limits_row)?;
                let (_, opening) = PaperAccount::open(row.starting_balance);
                if let Some(event) = &opening {
                    repo::record_event(conn, row.id, owner, event, None, None, now)?;
                }
                account_view(&row, &limits_row, row.starting_balance)
            })
            .await
    }

    pub(super) async fn place_order_impl(
        &self,
        owner: Uuid,
        account_id: Uuid,
        request: OrderRequest,
    ) -> Result<OrderOutcome, PropError> {
        let instrument = validate_order(&request)?;
        let now = self.clock.now();
        let positions = self
            .owner_read(owner, account_id, move |conn, _| {
                repo::positions_of(conn, account_id).map_err(PropError::from)
            })
            .await?;
        let key = instrument.to_string();
        let info = self.feed.instrument(&key).await?;
        let quote = self.feed.quote(&key, now).await?;
        let mut marks = self
            .marks(
                positions
                    .iter()
                    .filter(|p| !p.size.is_zero() && p.instrument != key)
                    .map(|p| p.instrument.clone()),
                now,
            )
            .await?;
        if let Some(quote) = &quote {
            marks.insert(key, quote.mid);
        }
        let market = MarketView { info, quote, marks };
        let settings = self.settings.clone();
        self.db
            .tenant_transaction(owner, move |conn| {
                execute_order(
                    conn,
                    owner,
                    account_id,
                    &request,
                    &instrument,
                    &market,
                    now,
                    &settings,
                )
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use clones_market::Side;

    use super::*;

    proptest! {
        /// Every key the market grammar accepts reaches execution unchanged.
        #[test]
        fn orders_accept_every_key_of_the_grammar(key in clones_market::arbitrary::key_text()) {
            let request = OrderRequest {
                decision_action_id: None,
                instrument: key.clone(),
                side: Side::Buy,
                size: Decimal::ONE,
                limit_price: None,
                reduce_only: false,
                time_in_force: TimeInForce::Ioc,
            };
            let parsed = validate_order(&request).map(|instrument| instrument.to_string());
            prop_assert_eq!(parsed.ok(), Some(key));
        }
    }
}
