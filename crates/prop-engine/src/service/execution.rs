//! The write paths of an account's life before marking: opening an account with its limits
//! and opening ledger event, and executing an order (gates, fill simulation, fills, position,
//! ledger event and balances) in one transaction per order.
//!
//! Market data is read through the feed before the transaction opens; the transaction itself
//! reads nothing but the database, so a slow feed never holds the account's row lock. The
//! marks of the account's other positions come from what it held after its last order here
//! (`held`); when the transaction finds an open position it has no mark for, it writes nothing
//! and the order is retried with that mark read. An order is four statements: the account
//! locked with its limits, one read of balances, positions, the action's earlier order and the
//! rate window, one write of everything the order did, and the commit; its outcome is built
//! from what was written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use clones_market::{InstrumentKey, InstrumentKind};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::mapping::{
    account_view, cash_of, fill_view, limits_of, order_view, paper_from_parts, status_of,
};
use super::{MAX_ACTION_ID_LEN, MAX_AMOUNT, PgPropService, PropSettings, corrupt};
use crate::feed::{InstrumentInfo, MarketQuote};
use crate::fill::{self, OrderSpec, OrderType, TimeInForce};
use crate::gates::{self, AccountSnapshot, AccountStatus, OrderCheck, RiskLimits};
use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow};
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

pub(super) fn validate_order(request: &OrderRequest) -> Result<InstrumentKey, PropError> {
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
    outcome_from(order, &rows, created)
}

/// The outcome of rows as stored, built from what was written instead of read back.
fn outcome_from(
    order: &OrderRow,
    fills: &[FillRow],
    created: bool,
) -> Result<OrderOutcome, PropError> {
    Ok(OrderOutcome {
        order: order_view(order, fills)?,
        fills: fills.iter().map(fill_view).collect::<Result<_, _>>()?,
        created,
    })
}

/// A value as `NUMERIC(28, 10)` gives it back: at the stored scale, so an outcome built from
/// what was written reads exactly as a re-read one.
fn stored(value: Decimal) -> Decimal {
    let mut value = value;
    value.rescale(crate::SCALE);
    value
}

/// Records a rejected or unfilled order; when a concurrent delivery of the same action won,
/// returns that one.
fn record_unexecuted(conn: &mut PgConnection, row: &OrderRow) -> Result<OrderOutcome, PropError> {
    let write = repo::OrderWrite {
        order: row,
        fills: &[],
        position: None,
        event: None,
    };
    if repo::write_order(conn, &write)? {
        return outcome_from(row, &[], true);
    }
    existing_outcome(conn, row)
}

/// The order that won the action's unique key.
fn existing_outcome(conn: &mut PgConnection, row: &OrderRow) -> Result<OrderOutcome, PropError> {
    let action = row
        .decision_action_id
        .as_deref()
        .ok_or_else(|| corrupt("order conflict without an action id"))?;
    let existing = repo::order_by_action(conn, row.account_id, action)?
        .ok_or_else(|| corrupt("conflicting order is not visible"))?;
    outcome_of(conn, &existing, false)
}

/// Everything read from the market before the order's transaction opens.
#[derive(Clone)]
pub(super) struct MarketView {
    pub(super) info: Option<InstrumentInfo>,
    pub(super) quote: Option<MarketQuote>,
    pub(super) marks: BTreeMap<String, Decimal>,
    /// Instruments the feed was asked about (a mark may be absent because the feed has none).
    pub(super) asked: BTreeSet<String>,
    /// Value positions the feed was not asked about at entry instead of asking for them.
    pub(super) allow_unasked: bool,
}

/// What one attempt at the order's transaction came to.
pub(super) enum Attempt {
    /// The order's result, and the instruments the account holds after it.
    Done(Box<OrderOutcome>, Vec<String>),
    /// The account holds instruments whose marks were not read; nothing was written.
    NeedMarks(Vec<String>),
}

#[expect(
    clippy::too_many_arguments,
    reason = "one transaction body; every input is read before the transaction opens"
)]
pub(super) fn execute_order(
    conn: &mut PgConnection,
    owner: Uuid,
    account_id: Uuid,
    request: &OrderRequest,
    instrument: &InstrumentKey,
    market: &MarketView,
    now: DateTime<Utc>,
    settings: &PropSettings,
) -> Result<Attempt, PropError> {
    let (account, limits) =
        repo::lock_account_with_limits(conn, account_id)?.ok_or(PropError::AccountNotFound)?;
    // Row-level security already hides other owners' accounts in a tenant transaction; a batch
    // runs across tenants and relies on this check.
    if account.owner_user_id != owner {
        return Err(PropError::AccountNotFound);
    }
    let context = repo::order_context(
        conn,
        account_id,
        request.decision_action_id.as_deref(),
        now - Duration::minutes(1),
        account.orders_placed,
        i64::from(limits.max_orders_per_minute),
    )?;
    let key = instrument.to_string();
    let held: Vec<String> = context
        .positions
        .iter()
        .filter(|(_, size, _)| !size.is_zero())
        .map(|(name, _, _)| name.clone())
        .collect();
    if context.existing.is_some()
        && let Some(action) = &request.decision_action_id
        && let Some(existing) = repo::order_by_action(conn, account_id, action)?
    {
        return Ok(Attempt::Done(
            Box::new(outcome_of(conn, &existing, false)?),
            held,
        ));
    }
    let missing: Vec<String> = held
        .iter()
        .filter(|name| **name != key && !market.asked.contains(*name))
        .cloned()
        .collect();
    if !missing.is_empty() && !market.allow_unasked {
        return Ok(Attempt::NeedMarks(missing));
    }
    let mut paper = paper_from_parts(&context.balances, &context.positions)?;
    let equity = paper.equity(&market.marks);
    let today = now.date_naive();
    let day_start_equity = if account.day_anchor < today {
        repo::roll_day(conn, account_id, today, equity, now)?;
        equity
    } else {
        account.day_start_equity
    };
    let snapshot = AccountSnapshot {
        status: status_of(&account)?,
        kill_switch: settings.kill_switch,
        equity,
        day_start_equity,
        gross_exposure: paper.gross_exposure(&market.marks),
        position: paper.position(&key),
        // The order path learns whether the limit is reached, not the count below it.
        orders_last_minute: if context.rate_limited {
            u32::try_from(limits.max_orders_per_minute).unwrap_or(u32::MAX)
        } else {
            0
        },
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
        size: stored(request.size),
        limit_price: request.limit_price.map(stored),
        reduce_only: request.reduce_only,
        time_in_force: request.time_in_force.as_str().into(),
        status: OrderStatus::Rejected.as_str().into(),
        rejection_code: None,
        rejection_detail: None,
        created_at: now,
        account_seq: account.orders_placed + 1,
    };
    if let Err(rejection) = gates::check_order(
        &snapshot,
        &limits_of(&limits),
        &check,
        settings.fill.max_quote_age,
    ) {
        row.rejection_code = Some(rejection.reason.code().into());
        row.rejection_detail = Some(rejection.detail);
        return Ok(Attempt::Done(
            Box::new(record_unexecuted(conn, &row)?),
            held,
        ));
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
            return Ok(Attempt::Done(
                Box::new(record_unexecuted(conn, &row)?),
                held,
            ));
        }
    };
    let outcome = paper.execute(instrument, request.side, &execution, &settings.fill.fees);
    let filled = execution.filled_size();
    row.status = if filled == request.size {
        OrderStatus::Filled
    } else {
        OrderStatus::PartiallyFilled
    }
    .as_str()
    .into();
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
            price: stored(record.price),
            size: stored(record.size),
            fee: stored(record.fee),
            realized_pnl: stored(record.realized_pnl),
            source: execution.source.as_str().into(),
            created_at: now,
        })
        .collect();
    let written = repo::write_order(
        conn,
        &repo::OrderWrite {
            order: &row,
            fills: &fills,
            position: Some(repo::PositionAfter {
                kind: instrument.kind().as_str(),
                size: outcome.after.size,
                avg_entry: outcome.after.avg_entry,
                realized_pnl: outcome.realized_pnl(),
            }),
            event: outcome.event.as_ref().map(|event| (Uuid::new_v4(), event)),
        },
    )?;
    if !written {
        return Ok(Attempt::Done(Box::new(existing_outcome(conn, &row)?), held));
    }
    let held_after = paper
        .positions
        .iter()
        .filter(|(_, position)| !position.is_flat())
        .map(|(name, _)| name.clone())
        .collect();
    Ok(Attempt::Done(
        Box::new(outcome_from(&row, &fills, true)?),
        held_after,
    ))
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
            orders_placed: 0,
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
        // Stored timestamps have microseconds; the outcome is built from what was written.
        let now = self.clock.now().trunc_subsecs(6);
        let key = instrument.to_string();
        let info = self.feed.instrument(&key).await?;
        let quote = self.feed.quote(&key, now).await?;
        let mut market = MarketView {
            info,
            marks: BTreeMap::new(),
            asked: BTreeSet::from([key.clone()]),
            allow_unasked: false,
            quote,
        };
        if let Some(quote) = &market.quote {
            market.marks.insert(key.clone(), quote.mid);
        }
        // Marks of what the account held after its last order here; the transaction asks for
        // more if it finds other open positions.
        let hinted: Vec<String> = self
            .held
            .get(account_id)
            .into_iter()
            .filter(|name| *name != key)
            .collect();
        self.add_marks(&mut market, hinted, now).await?;
        let request = Arc::new(request);
        let instrument = Arc::new(instrument);
        let mut attempts = 0;
        loop {
            attempts += 1;
            // Positions opened between attempts are valued at entry after a few rounds rather
            // than chasing a moving account forever.
            market.allow_unasked = attempts >= 3;
            let settings = self.settings.clone();
            let (req, inst, view) = (request.clone(), instrument.clone(), market.clone());
            let attempt = self
                .db
                .tenant_transaction(owner, move |conn| {
                    execute_order(conn, owner, account_id, &req, &inst, &view, now, &settings)
                })
                .await?;
            match attempt {
                Attempt::Done(outcome, held) => {
                    self.held.set(account_id, held);
                    return Ok(*outcome);
                }
                Attempt::NeedMarks(missing) => self.add_marks(&mut market, missing, now).await?,
            }
        }
    }

    /// Reads the marks of `instruments` into the view, remembering that they were asked.
    async fn add_marks(
        &self,
        market: &mut MarketView,
        instruments: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<(), PropError> {
        let fresh: Vec<String> = instruments
            .into_iter()
            .filter(|name| !market.asked.contains(name))
            .collect();
        market
            .marks
            .extend(self.marks(fresh.iter().cloned(), now).await?);
        market.asked.extend(fresh);
        Ok(())
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
