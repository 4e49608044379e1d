//! One round of orders in one transaction: the body shared by [`PropService::place_order`]
//! (a round of one order) and [`PropService::place_orders`] (a round of many accounts'
//! orders).
//!
//! A round locks its accounts (in id order), reads their state in one statement, runs each
//! order through the gates, the fill simulation and the paper account in memory, in the
//! caller's order, each account's later orders seeing what its earlier ones did exactly as
//! they would have read it back, and writes everything in one statement. So a round of many
//! orders leaves the ledger the same orders would leave one at a time, for three statements
//! instead of three per order. It reads nothing but the database: market data comes in the
//! orders' [`MarketView`]s.
//!
//! [`PropService::place_order`]: crate::PropService::place_order
//! [`PropService::place_orders`]: crate::PropService::place_orders

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use clones_market::InstrumentKey;
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::execution::{MarketView, outcome_from, outcome_of, stored};
use super::mapping::{limits_of, paper_from_parts, status_of};
use super::{PropSettings, corrupt};
use crate::fill::{self, OrderSpec, OrderType};
use crate::gates::{self, AccountSnapshot, OrderCheck};
use crate::models::{AccountRow, FillRow, LimitsRow, OrderRow};
use crate::paper::PaperAccount;
use crate::repo::{
    AccountWrite, ContextRequest, EntryWrite, EventWrite, PositionWrite, RoundWrite,
};
use crate::views::{OrderOutcome, OrderRequest, OrderStatus};
use crate::{PropError, repo};

/// One order of a round, validated, with the market read for it.
pub(super) struct RoundOrder<'a> {
    pub(super) owner: Uuid,
    pub(super) account_id: Uuid,
    pub(super) request: &'a OrderRequest,
    pub(super) instrument: &'a InstrumentKey,
    pub(super) market: &'a MarketView,
}

/// What became of one order of a round.
pub(super) enum Answer {
    /// Its result, and the instruments its account holds after it (none when refused).
    Done(Box<Result<OrderOutcome, PropError>>, Option<Vec<String>>),
    /// Not executed: its account holds instruments whose marks were not read (see
    /// [`Round::missing`]), or an earlier order of its account waits for them.
    Deferred,
}

/// What one round did.
pub(super) struct Round {
    /// One answer per order, in the orders' order.
    pub(super) answers: Vec<Answer>,
    /// Marks the deferred orders need.
    pub(super) missing: BTreeSet<String>,
}

/// An account as the round goes: its locked rows and its state after the round's orders so
/// far.
struct AccountState {
    account: AccountRow,
    limits: LimitsRow,
    paper: PaperAccount,
    /// Orders placed before the round.
    placed_before: i64,
    /// Earlier orders of the round's decision actions, by action.
    existing: HashMap<String, Uuid>,
    /// Sequence numbers (among those probed) of orders created in the rate window.
    recent: BTreeSet<i64>,
    /// The first order of the round of each decision action, by index.
    actions: HashMap<String, usize>,
    /// An order of this account waits for marks; its later orders wait too.
    waiting: bool,
    /// Whether the round rolled the account's trading day.
    rolled: bool,
}

/// How one order ended inside the round, before the write.
enum Step {
    Answered(Answer),
    /// Written by the round: its order's index in the write and its fills' range there.
    Recorded(usize, std::ops::Range<usize>),
    /// A repeat of the round's earlier order of the same decision action.
    Repeat(usize),
}

/// Runs one round. Orders of accounts that do not exist, or that are not their owner's, are
/// refused alone with [`PropError::AccountNotFound`]; anything else that fails fails the
/// round, and nothing of it is written.
pub(super) fn run_round(
    conn: &mut PgConnection,
    orders: &[RoundOrder<'_>],
    now: DateTime<Utc>,
    settings: &PropSettings,
) -> Result<Round, PropError> {
    let mut ids: Vec<Uuid> = orders.iter().map(|order| order.account_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let locked = repo::lock_accounts_with_limits(conn, &ids)?;
    let mut counts: HashMap<Uuid, i64> = HashMap::new();
    let mut actions: Vec<(Uuid, String)> = Vec::new();
    for order in orders {
        *counts.entry(order.account_id).or_default() += 1;
        if let Some(action) = &order.request.decision_action_id {
            actions.push((order.account_id, action.clone()));
        }
    }
    // The rate gate asks, for each order, whether the order `limit` places back in its
    // account's sequence was created inside the window; those numbers that fall before the
    // round are read here.
    let probes: Vec<(Uuid, i64, i64)> = locked
        .iter()
        .filter_map(|(account, limits)| {
            let placed = account.orders_placed;
            let limit = i64::from(limits.max_orders_per_minute).max(1);
            let count = counts.get(&account.id).copied().unwrap_or_default();
            let low = (placed - limit + 1).max(1);
            let high = (placed - limit + count).min(placed);
            (low <= high).then_some((account.id, low, high))
        })
        .collect();
    let found: Vec<Uuid> = locked.iter().map(|(account, _)| account.id).collect();
    let mut contexts = repo::order_contexts(
        conn,
        &ContextRequest {
            accounts: &found,
            actions: &actions,
            probes: &probes,
            since: now - Duration::minutes(1),
        },
    )?;
    let mut states: HashMap<Uuid, AccountState> = HashMap::with_capacity(locked.len());
    for (account, limits) in locked {
        let context = contexts.remove(&account.id).unwrap_or_default();
        states.insert(
            account.id,
            AccountState {
                paper: paper_from_parts(&context.balances, &context.positions)?,
                placed_before: account.orders_placed,
                existing: context.existing,
                recent: context.recent.into_iter().collect(),
                actions: HashMap::new(),
                waiting: false,
                rolled: false,
                account,
                limits,
            },
        );
    }

    let mut write = RoundWrite::default();
    let mut steps: Vec<Step> = Vec::with_capacity(orders.len());
    let mut missing = BTreeSet::new();
    let mut positions: BTreeMap<(Uuid, String), PositionWrite> = BTreeMap::new();
    let mut balances: BTreeMap<(Uuid, &'static str), (Uuid, Decimal)> = BTreeMap::new();
    for (index, order) in orders.iter().enumerate() {
        let Some(state) = states
            .get_mut(&order.account_id)
            .filter(|state| state.account.owner_user_id == order.owner)
        else {
            // Row-level security hides other owners' accounts in a tenant transaction; a
            // round across tenants relies on this check.
            steps.push(Step::Answered(Answer::Done(
                Box::new(Err(PropError::AccountNotFound)),
                None,
            )));
            continue;
        };
        if state.waiting {
            steps.push(Step::Answered(Answer::Deferred));
            continue;
        }
        if let Some(action) = &order.request.decision_action_id {
            if let Some(first) = state.actions.get(action) {
                steps.push(Step::Repeat(*first));
                continue;
            }
            if let Some(id) = state.existing.get(action) {
                let existing = repo::order_by_action(conn, order.account_id, action)?
                    .filter(|existing| existing.id == *id)
                    .ok_or_else(|| corrupt("an action's order is not visible"))?;
                let outcome = outcome_of(conn, &existing, false)?;
                steps.push(Step::Answered(Answer::Done(
                    Box::new(Ok(outcome)),
                    Some(held_of(&state.paper)),
                )));
                continue;
            }
        }
        let key = order.instrument.to_string();
        let unmarked: Vec<String> = state
            .paper
            .positions
            .iter()
            .filter(|(name, position)| {
                !position.is_flat() && **name != key && !order.market.asked.contains(*name)
            })
            .map(|(name, _)| name.clone())
            .collect();
        if !unmarked.is_empty() && !order.market.allow_unasked {
            missing.extend(unmarked);
            state.waiting = true;
            steps.push(Step::Answered(Answer::Deferred));
            continue;
        }
        if let Some(action) = &order.request.decision_action_id {
            state.actions.insert(action.clone(), index);
        }
        let done = execute(state, order, &key, now, settings)?;
        if let Some(effect) = done.effect {
            let entry = positions
                .entry((order.account_id, key.clone()))
                .or_insert_with(|| PositionWrite {
                    account_id: order.account_id,
                    owner: order.owner,
                    instrument: key.clone(),
                    kind: order.instrument.kind().as_str(),
                    size: Decimal::ZERO,
                    avg_entry: Decimal::ZERO,
                    realized_pnl: Decimal::ZERO,
                    reopened: false,
                });
            entry.size = effect.size;
            entry.avg_entry = effect.avg_entry;
            entry.realized_pnl += effect.realized_pnl;
            entry.reopened |= effect.reopened;
            if let Some(event) = effect.event {
                let event_id = Uuid::new_v4();
                write.events.push(EventWrite {
                    id: event_id,
                    account_id: order.account_id,
                    owner: order.owner,
                    order_id: done.row.id,
                    instrument: key.clone(),
                });
                for (seq, item) in event.entries().iter().enumerate() {
                    let ledger_account = item.account.as_str();
                    write.entries.push(EntryWrite {
                        event_id,
                        seq: i32::try_from(seq).unwrap_or(i32::MAX),
                        account_id: order.account_id,
                        owner: order.owner,
                        ledger_account,
                        amount: item.amount,
                    });
                    balances
                        .entry((order.account_id, ledger_account))
                        .or_insert((order.owner, Decimal::ZERO))
                        .1 += item.amount;
                }
            }
        }
        let fills = write.fills.len()..write.fills.len() + done.fills.len();
        steps.push(Step::Recorded(write.orders.len(), fills));
        write.orders.push(done.row);
        write.fills.extend(done.fills);
    }

    for state in states.values() {
        let placed = state.account.orders_placed;
        if placed != state.placed_before || state.rolled {
            write.accounts.push(AccountWrite {
                id: state.account.id,
                orders_placed: placed,
                rolled: state
                    .rolled
                    .then_some((state.account.day_anchor, state.account.day_start_equity)),
            });
        }
    }
    write.positions = positions.into_values().collect();
    write.balances = balances
        .into_iter()
        .map(|((account, ledger), (owner, delta))| (account, owner, ledger, delta))
        .collect();
    if !write.orders.is_empty() || !write.accounts.is_empty() {
        let written = repo::write_round(conn, &write, now)?;
        if written != write.orders.len() {
            return Err(corrupt("a round wrote fewer orders than it recorded"));
        }
    }

    let mut answers: Vec<Answer> = Vec::with_capacity(steps.len());
    for (index, step) in steps.into_iter().enumerate() {
        let answer = match step {
            Step::Answered(answer) => answer,
            Step::Recorded(at, fills) => {
                let held = states
                    .get(&orders[index].account_id)
                    .map(|state| held_of(&state.paper));
                Answer::Done(
                    Box::new(Ok(outcome_from(
                        &write.orders[at],
                        &write.fills[fills],
                        true,
                    )?)),
                    held,
                )
            }
            Step::Repeat(first) => match answers.get(first) {
                Some(Answer::Done(first, held)) => match first.as_ref() {
                    Ok(outcome) => {
                        let mut repeat = outcome.clone();
                        repeat.created = false;
                        Answer::Done(Box::new(Ok(repeat)), held.clone())
                    }
                    Err(_) => return Err(corrupt("a repeated action whose first order failed")),
                },
                _ => return Err(corrupt("a repeated action without its first order")),
            },
        };
        answers.push(answer);
    }
    Ok(Round { answers, missing })
}

/// The instruments an account holds.
fn held_of(paper: &PaperAccount) -> Vec<String> {
    paper
        .positions
        .iter()
        .filter(|(_, position)| !position.is_flat())
        .map(|(name, _)| name.clone())
        .collect()
}

/// What an executed order did to its position and ledger.
struct Effect {
    size: Decimal,
    avg_entry: Decimal,
    realized_pnl: Decimal,
    /// The position was flat before the order.
    reopened: bool,
    event: Option<crate::ledger::LedgerEvent>,
}

/// One order's rows and effect.
struct Done {
    row: OrderRow,
    fills: Vec<FillRow>,
    effect: Option<Effect>,
}

/// Runs one order against its account's state: the day roll, the gates, the fill and the
/// paper account; the state moves on as the database will after the round's write.
fn execute(
    state: &mut AccountState,
    order: &RoundOrder<'_>,
    key: &str,
    now: DateTime<Utc>,
    settings: &PropSettings,
) -> Result<Done, PropError> {
    let request = order.request;
    let market = order.market;
    let account = &mut state.account;
    let equity = state.paper.equity(&market.marks);
    let today = now.date_naive();
    // The order that rolls the day checks against its equity as computed; later orders read
    // it as stored, as they would from the database.
    let day_start_equity = if account.day_anchor < today {
        account.day_anchor = today;
        account.day_start_equity = stored(equity);
        state.rolled = true;
        equity
    } else {
        account.day_start_equity
    };
    let limit = i64::from(state.limits.max_orders_per_minute).max(1);
    let probe = account.orders_placed - limit + 1;
    // An order of this round was created now, inside the window.
    let rate_limited = probe >= 1 && (probe > state.placed_before || state.recent.contains(&probe));
    let snapshot = AccountSnapshot {
        status: status_of(account)?,
        kill_switch: settings.kill_switch,
        equity,
        day_start_equity,
        gross_exposure: state.paper.gross_exposure(&market.marks),
        position: state.paper.position(key),
        // The order path learns whether the limit is reached, not the count below it.
        orders_last_minute: if rate_limited {
            u32::try_from(state.limits.max_orders_per_minute).unwrap_or(u32::MAX)
        } else {
            0
        },
    };
    let check = OrderCheck {
        instrument: order.instrument,
        info: market.info.as_ref(),
        price: market
            .quote
            .as_ref()
            .map(|quote| (quote.mid, now - quote.mid_at)),
        side: request.side,
        size: request.size,
        reduce_only: request.reduce_only,
    };
    account.orders_placed += 1;
    let mut row = OrderRow {
        id: Uuid::new_v4(),
        account_id: account.id,
        owner_user_id: account.owner_user_id,
        decision_action_id: request.decision_action_id.clone(),
        instrument: key.to_string(),
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
        account_seq: account.orders_placed,
    };
    if let Err(rejection) = gates::check_order(
        &snapshot,
        &limits_of(&state.limits),
        &check,
        settings.fill.max_quote_age,
    ) {
        row.rejection_code = Some(rejection.reason.code().into());
        row.rejection_detail = Some(rejection.detail);
        return Ok(Done {
            row,
            fills: Vec::new(),
            effect: None,
        });
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
    let execution = match fill::simulate(&spec, order.instrument.kind(), quote, now, &settings.fill)
    {
        Ok(execution) => execution,
        Err(no_fill) => {
            row.status = OrderStatus::Unfilled.as_str().into();
            row.rejection_code = Some(no_fill.code().into());
            row.rejection_detail = Some(format!("nothing filled: {}", no_fill.code()));
            return Ok(Done {
                row,
                fills: Vec::new(),
                effect: None,
            });
        }
    };
    let outcome = state.paper.execute_keyed(
        order.instrument,
        key,
        request.side,
        &execution,
        &settings.fill.fees,
    );
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
            account_id: row.account_id,
            owner_user_id: row.owner_user_id,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            instrument: row.instrument.clone(),
            side: row.side.clone(),
            price: stored(record.price),
            size: stored(record.size),
            fee: stored(record.fee),
            realized_pnl: stored(record.realized_pnl),
            source: execution.source.as_str().into(),
            created_at: now,
        })
        .collect();
    let realized_pnl = outcome.realized_pnl();
    Ok(Done {
        row,
        fills,
        effect: Some(Effect {
            size: outcome.after.size,
            avg_entry: outcome.after.avg_entry,
            realized_pnl,
            reopened: outcome.before.is_flat(),
            event: outcome.event,
        }),
    })
}
