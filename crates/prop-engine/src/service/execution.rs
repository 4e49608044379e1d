//! The write paths of an account's life before marking: opening an account with its limits
//! and opening ledger event, and placing one order.
//!
//! Market data is read through the feed before the order's transaction opens; the transaction
//! itself reads nothing but the database, so a slow feed never holds the account's row lock.
//! The marks of the account's other positions come from what it held after its last order
//! here (`held`); when the transaction finds an open position it has no mark for, it writes
//! nothing and the order is retried with that mark read. The transaction is a round of one
//! order ([`round`](super::round)): the account locked with its limits, one read, one write
//! and the commit; its outcome is built from what was written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use clones_market::{InstrumentKey, InstrumentKind};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::mapping::{account_view, cash_of, fill_view, order_view};
use super::round::{Answer, RoundOrder, run_round};
use super::{MAX_ACTION_ID_LEN, MAX_AMOUNT, PgPropService, corrupt};
use crate::feed::{InstrumentInfo, MarketQuote};
use crate::fill::TimeInForce;
use crate::gates::{AccountStatus, RiskLimits};
use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow};
use crate::paper::PaperAccount;
use crate::views::{AccountView, OpenAccount, OrderOutcome, OrderRequest};
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

pub(super) fn outcome_of(
    conn: &mut PgConnection,
    order: &OrderRow,
    created: bool,
) -> Result<OrderOutcome, PropError> {
    let rows = repo::fills_of_order(conn, order.id)?;
    outcome_from(order, &rows, created)
}

/// The outcome of rows as stored, built from what was written instead of read back.
pub(super) fn outcome_from(
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
pub(super) fn stored(value: Decimal) -> Decimal {
    let mut value = value;
    value.rescale(crate::SCALE);
    value
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
            let round = self
                .db
                .tenant_transaction(owner, move |conn| {
                    let order = RoundOrder {
                        owner,
                        account_id,
                        request: &req,
                        instrument: &inst,
                        market: &view,
                    };
                    run_round(conn, &[order], now, &settings)
                })
                .await?;
            match round.answers.into_iter().next() {
                Some(Answer::Done(result, held)) => {
                    if let Some(held) = held {
                        self.held.set(account_id, held);
                    }
                    return *result;
                }
                Some(Answer::Deferred) => {
                    self.add_marks(&mut market, round.missing.into_iter().collect(), now)
                        .await?;
                }
                None => return Err(corrupt("a round of one order without its answer")),
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
