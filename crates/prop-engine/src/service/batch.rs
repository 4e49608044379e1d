//! Many accounts' orders in one transaction: the path for callers that hold a whole cycle's
//! orders (the decision cycle), so a cycle pays one commit and three statements instead of
//! that per order.
//!
//! The orders run through the same round as [`PropService::place_order`]
//! ([`round`](super::round)): the same gates, fill, position, ledger and idempotency, so a
//! batch leaves exactly the ledger the same orders placed one at a time would. This module
//! only prepares rounds: it reads the market once per instrument, runs again the orders whose
//! accounts hold instruments it had no mark for, and falls back to one order per transaction
//! when a round cannot commit whole.
//!
//! [`PropService::place_order`]: crate::PropService::place_order

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{SubsecRound, Utc};
use clones_market::InstrumentKey;

use super::PgPropService;
use super::execution::{MarketView, validate_order};
use super::round::{Answer, RoundOrder, run_round};
use clones_kernel::DomainError;

use crate::PropError;
use crate::views::{BatchOrder, OrderOutcome};

/// Rounds before positions the feed was not asked about are valued at entry (as in the
/// single-order path, so a batch cannot chase a moving account forever).
const ROUNDS_BEFORE_UNASKED: u32 = 3;

/// One order of the batch still to execute: its index in the caller's list and its parsed
/// instrument.
type Pending = (usize, InstrumentKey);

impl PgPropService {
    pub(super) async fn place_orders_impl(
        &self,
        orders: Vec<BatchOrder>,
    ) -> Result<Vec<Result<OrderOutcome, PropError>>, PropError> {
        let now = self.clock.now().trunc_subsecs(6);
        let mut results: Vec<Option<Result<OrderOutcome, PropError>>> =
            (0..orders.len()).map(|_| None).collect();
        let mut pending: Vec<Pending> = Vec::with_capacity(orders.len());
        for (index, order) in orders.iter().enumerate() {
            match validate_order(&order.request) {
                Ok(instrument) => pending.push((index, instrument)),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        let mut market = self.batch_market(&orders, &pending, now).await?;
        let orders = Arc::new(orders);
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            for view in market.values_mut() {
                view.allow_unasked = round >= ROUNDS_BEFORE_UNASKED;
            }
            let views = Arc::new(market.clone());
            let settings = self.settings.clone();
            let batch = pending.clone();
            let shared = orders.clone();
            let outcome = self
                .db
                .cross_tenant_transaction("prop: order batch", move |conn| {
                    let mut round_orders = Vec::with_capacity(batch.len());
                    for (index, instrument) in &batch {
                        let order = &shared[*index];
                        round_orders.push(RoundOrder {
                            owner: order.owner,
                            account_id: order.account_id,
                            request: &order.request,
                            instrument,
                            market: views.get(&instrument.to_string()).ok_or_else(|| {
                                super::corrupt("batch order without a market view")
                            })?,
                        });
                    }
                    run_round(conn, &round_orders, now, &settings)
                })
                .await;
            match outcome {
                Ok(done) => {
                    let mut deferred = Vec::new();
                    for ((index, instrument), answer) in
                        std::mem::take(&mut pending).into_iter().zip(done.answers)
                    {
                        match answer {
                            Answer::Done(result, held) => {
                                if let Some(held) = held {
                                    self.held.set(orders[index].account_id, held);
                                }
                                results[index] = Some(*result);
                            }
                            Answer::Deferred => deferred.push((index, instrument)),
                        }
                    }
                    pending = deferred;
                    if done.missing.is_empty() {
                        continue;
                    }
                    match self.marks(done.missing.iter().cloned(), now).await {
                        Ok(marks) => {
                            for view in market.values_mut() {
                                view.marks.extend(marks.clone());
                                view.asked.extend(done.missing.iter().cloned());
                            }
                            continue;
                        }
                        // Some orders already executed, so the batch cannot fail whole: the
                        // deferred ones go one at a time, each with its own answer.
                        Err(error) => {
                            tracing::warn!(code = error.code(), %error, orders = pending.len(), "marks for deferred orders failed; executing them one at a time");
                        }
                    }
                }
                Err(error) => {
                    // Nothing of this round was kept: execute its orders one at a time, each
                    // with its own answer.
                    tracing::warn!(code = error.code(), %error, orders = pending.len(), "order batch rolled back; executing one at a time");
                }
            }
            for (index, _) in std::mem::take(&mut pending) {
                let order = &orders[index];
                results[index] = Some(
                    self.place_order_impl(order.owner, order.account_id, order.request.clone())
                        .await,
                );
            }
        }
        results
            .into_iter()
            .map(|result| result.ok_or_else(|| super::corrupt("batch order without a result")))
            .collect()
    }

    /// One market view per instrument the batch orders: its instrument and quote read once,
    /// with the marks of everything the batch's accounts held after their last orders here.
    async fn batch_market(
        &self,
        orders: &[BatchOrder],
        pending: &[Pending],
        now: chrono::DateTime<Utc>,
    ) -> Result<BTreeMap<String, MarketView>, PropError> {
        let ordered: BTreeSet<String> = pending
            .iter()
            .map(|(_, instrument)| instrument.to_string())
            .collect();
        let mut infos = BTreeMap::new();
        let mut marks = BTreeMap::new();
        let mut quotes = BTreeMap::new();
        for key in &ordered {
            infos.insert(key.clone(), self.feed.instrument(key).await?);
            let quote = self.feed.quote(key, now).await?;
            if let Some(quote) = &quote {
                marks.insert(key.clone(), quote.mid);
            }
            quotes.insert(key.clone(), quote);
        }
        let hinted: BTreeSet<String> = pending
            .iter()
            .flat_map(|(index, _)| self.held.get(orders[*index].account_id))
            .filter(|name| !ordered.contains(name))
            .collect();
        marks.extend(self.marks(hinted.iter().cloned(), now).await?);
        let asked: BTreeSet<String> = ordered.iter().chain(&hinted).cloned().collect();
        Ok(ordered
            .into_iter()
            .map(|key| {
                let view = MarketView {
                    info: infos.remove(&key).flatten(),
                    quote: quotes.remove(&key).flatten(),
                    marks: marks.clone(),
                    asked: asked.clone(),
                    allow_unasked: false,
                };
                (key, view)
            })
            .collect())
    }
}
