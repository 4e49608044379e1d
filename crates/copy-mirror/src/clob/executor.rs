//! [`ClobExecutor`]: mirror orders placed on the Polymarket CLOB, looked up after a crash or an
//! ambiguous answer, and their status read back for the sync step.
//!
//! Every order is a FAK (fill-and-kill: what matches at once trades, the rest is cancelled), the
//! venue's counterpart of the paper executor's immediate-or-cancel. Its signature depends only
//! on what the ledger stores (token, side, size, limit price, the idempotency key as salt and the
//! claim time as the signed timestamp) and on the market's exchange, which never changes, so a
//! lookup after a crash re-derives the same order hash and asks the venue for it by that id.
//! Nothing here resends an order whose fate is unknown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::client::{ClobClient, ClobError};
use super::order::{OrderSigner, SignedOrder};
use super::rules::{OrderArgs, OrderType};
use super::wire::{OpenOrder, OrderPlacement, VenueMarket};
use crate::executor::{ExecError, Executor, Placement, Route};
use crate::fill::TradeSide;
use crate::ids::IdempotencyKey;
use crate::plan::MirrorIntent;

/// The finest tick the venue uses: re-deriving an order's hash validates against it, since
/// the tick is not signed and the order already passed the market's own tick when placed.
const FINEST_TICK: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// One CLOB trading account: the REST client (with its L2 credentials) and the key that signs
/// its orders.
#[derive(Debug)]
pub struct ClobAccount {
    /// The client, with credentials.
    pub client: ClobClient,
    /// The order signer (the same key, and the funding wallet).
    pub signer: OrderSigner,
}

/// Which CLOB account a tenant's live orders use.
#[async_trait]
pub trait ClobAccounts: Send + Sync {
    /// The tenant's account; `None` when it has none (its live orders are not sent).
    ///
    /// # Errors
    /// [`ExecError::NotSent`] when the account cannot be loaded now.
    async fn account(&self, owner: Uuid) -> Result<Option<Arc<ClobAccount>>, ExecError>;
}

/// One account the operator configured, serving every tenant whose grant is live.
#[derive(Debug)]
pub struct HouseAccount(pub Arc<ClobAccount>);

#[async_trait]
impl ClobAccounts for HouseAccount {
    async fn account(&self, _owner: Uuid) -> Result<Option<Arc<ClobAccount>>, ExecError> {
        Ok(Some(self.0.clone()))
    }
}

/// The live executor.
pub struct ClobExecutor {
    accounts: Arc<dyn ClobAccounts>,
    /// Each token's rules, read once per process: a token's exchange never changes and a tick
    /// change only makes the venue refuse an off-tick price.
    markets: Mutex<HashMap<String, VenueMarket>>,
}

impl std::fmt::Debug for ClobExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClobExecutor").finish_non_exhaustive()
    }
}

impl ClobExecutor {
    /// An executor over `accounts`.
    pub fn new(accounts: Arc<dyn ClobAccounts>) -> Self {
        Self {
            accounts,
            markets: Mutex::new(HashMap::new()),
        }
    }

    async fn account(&self, owner: Uuid) -> Result<Arc<ClobAccount>, ExecError> {
        self.accounts
            .account(owner)
            .await?
            .ok_or_else(|| ExecError::NotSent("no CLOB account for this tenant".into()))
    }

    async fn market(&self, account: &ClobAccount, token: &str) -> Result<VenueMarket, ClobError> {
        let cached = self
            .markets
            .lock()
            .ok()
            .and_then(|markets| markets.get(token).copied());
        if let Some(market) = cached {
            return Ok(market);
        }
        let market = account.client.market(token).await?;
        if let Ok(mut markets) = self.markets.lock() {
            markets.insert(token.to_string(), market);
        }
        Ok(market)
    }

    /// The order for `intent`, signed as it was (or will be) sent.
    fn sign(
        account: &ClobAccount,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
        market: &VenueMarket,
        tick: Decimal,
    ) -> Result<SignedOrder, super::OrderError> {
        account.signer.sign(&OrderArgs {
            token_id: intent.asset.clone(),
            side: intent.side,
            price: intent.limit_price,
            size: intent.size,
            tick_size: tick,
            neg_risk: market.neg_risk,
            order_type: OrderType::Fak,
            expiration: 0,
            post_only: false,
            client_order_id: key.to_hex(),
            timestamp_ms: u64::try_from(route.claimed_at.timestamp_millis()).unwrap_or(0),
        })
    }
}

/// A lookup that could not run: whatever exists at the venue is unchanged and unknown.
fn unreachable_now(error: ExecError) -> ExecError {
    match error {
        ExecError::NotSent(reason) => ExecError::Ambiguous(reason),
        ambiguous @ ExecError::Ambiguous(_) => ambiguous,
    }
}

/// An order as the venue lists it, as a placement: `LIVE` orders may still trade.
fn placement_of(order: &OpenOrder) -> Placement {
    Placement::Accepted {
        venue_order_id: order.id.clone(),
        filled: order.size_matched,
        done: !order.status.eq_ignore_ascii_case("live"),
    }
}

/// The answer to a post, as a placement. A FAK order that is `live` or `delayed` is not done
/// yet; the sync step reads what it became.
fn accepted(side: TradeSide, answer: &OrderPlacement, hash: &str) -> Placement {
    // A buy takes shares, a sell makes (gives) them.
    let shares = match side {
        TradeSide::Buy => &answer.taking_amount,
        TradeSide::Sell => &answer.making_amount,
    };
    let status = answer.status.to_ascii_lowercase();
    Placement::Accepted {
        venue_order_id: if answer.order_id.is_empty() {
            hash.to_string()
        } else {
            answer.order_id.clone()
        },
        filled: shares.parse().unwrap_or(Decimal::ZERO),
        done: matches!(status.as_str(), "matched" | "unmatched"),
    }
}

#[async_trait]
impl Executor for ClobExecutor {
    fn name(&self) -> &'static str {
        "clob"
    }

    async fn place(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError> {
        let account = self.account(route.owner).await?;
        let market = match self.market(&account, &intent.asset).await {
            Ok(market) => market,
            Err(ClobError::NotFound) => {
                return Ok(Placement::Rejected {
                    reason: "the venue has no book for this token".into(),
                });
            }
            Err(error) => return Err(ExecError::NotSent(error.to_string())),
        };
        if intent.size < market.min_order_size {
            return Ok(Placement::Rejected {
                reason: format!(
                    "size {} is below the market's minimum {}",
                    intent.size, market.min_order_size
                ),
            });
        }
        let order = match Self::sign(&account, route, intent, key, &market, market.tick_size) {
            Ok(order) => order,
            // A rule the order breaks (an off-tick price): refused before anything was sent.
            Err(error) => {
                return Ok(Placement::Rejected {
                    reason: error.to_string(),
                });
            }
        };
        let hash = order.hash.to_string();
        match account.client.post_order(&order).await {
            Ok(answer) => Ok(accepted(intent.side, &answer, &hash)),
            Err(ClobError::Rejected { message, .. }) => Ok(Placement::Rejected { reason: message }),
            Err(error) if error.is_ambiguous() => Err(ExecError::Ambiguous(error.to_string())),
            Err(error) => Err(ExecError::NotSent(error.to_string())),
        }
    }

    async fn reconcile(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError> {
        let account = self.account(route.owner).await.map_err(unreachable_now)?;
        let market = match self.market(&account, &intent.asset).await {
            Ok(market) => market,
            // No book: nothing can have been placed on it.
            Err(ClobError::NotFound) => return Ok(None),
            Err(error) => return Err(ExecError::Ambiguous(error.to_string())),
        };
        let Ok(order) = Self::sign(&account, route, intent, key, &market, FINEST_TICK) else {
            // The intent cannot be signed at all, so it was never sent.
            return Ok(None);
        };
        match account.client.order(&order.hash.to_string()).await {
            Ok(found) => Ok(Some(placement_of(&found))),
            Err(ClobError::NotFound) => Ok(None),
            Err(error) => Err(ExecError::Ambiguous(error.to_string())),
        }
    }

    async fn status(
        &self,
        route: Route,
        venue_order_id: &str,
    ) -> Result<Option<Placement>, ExecError> {
        let account = self.account(route.owner).await.map_err(unreachable_now)?;
        match account.client.order(venue_order_id).await {
            Ok(order) => Ok(Some(placement_of(&order))),
            Err(ClobError::NotFound) => Ok(None),
            Err(error) => Err(ExecError::Ambiguous(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, making: &str, taking: &str) -> OrderPlacement {
        OrderPlacement {
            success: true,
            error_msg: String::new(),
            order_id: "0xabc".into(),
            status: status.into(),
            making_amount: making.into(),
            taking_amount: taking.into(),
            transactions_hashes: vec![],
        }
    }

    #[test]
    fn a_matched_buy_reports_the_shares_it_took() {
        let placed = accepted(TradeSide::Buy, &answer("matched", "2.5", "5"), "0xdef");
        assert_eq!(
            placed,
            Placement::Accepted {
                venue_order_id: "0xabc".into(),
                filled: Decimal::from(5),
                done: true
            }
        );
    }

    #[test]
    fn a_delayed_sell_is_not_done_and_an_empty_amount_is_zero() {
        let mut reply = answer("delayed", "", "");
        reply.order_id = String::new();
        let placed = accepted(TradeSide::Sell, &reply, "0xdef");
        assert_eq!(
            placed,
            Placement::Accepted {
                venue_order_id: "0xdef".into(),
                filled: Decimal::ZERO,
                done: false
            }
        );
    }

    #[test]
    fn the_finest_tick_is_one_ten_thousandth() {
        assert_eq!(FINEST_TICK.to_string(), "0.0001");
    }
}
