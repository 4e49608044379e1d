//! Where mirror orders go: one trait, and the paper executor that sends them to the tenant's
//! copy-mirror account in prop-engine, so paper mirroring obeys the same gates, fills and
//! ledger as every other account. The live CLOB executor implements the same trait.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_market::InstrumentKey;
use clones_prop_engine::{OrderRequest, OrderStatus, PropError, PropService, TimeInForce};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::fill::TradeSide;
use crate::ids::IdempotencyKey;
use crate::plan::MirrorIntent;

/// Where, for whom and as of when an order is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The tenant.
    pub owner: Uuid,
    /// The tenant's copy-mirror paper account, for the paper executor.
    pub paper_account: Option<Uuid>,
    /// When the fill was claimed (the ledger row's `observed_at`). A venue that signs orders
    /// signs this time, so a lookup after a crash re-derives the same order.
    pub claimed_at: DateTime<Utc>,
}

/// What the venue answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Accepted; `filled` of the order's size traded at once.
    Accepted {
        /// The venue's order id.
        venue_order_id: String,
        /// Shares filled so far.
        filled: Decimal,
        /// Whether the order is done (fully filled, or the rest cancelled).
        done: bool,
    },
    /// Refused by the venue or a gate; nothing traded.
    Rejected {
        /// Why, as the venue said it.
        reason: String,
    },
}

/// Why an executor could not tell what happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The order may or may not exist (a timeout, a dropped connection): reconcile by asking
    /// the venue, never by sending another order.
    #[error("ambiguous: {0}")]
    Ambiguous(String),
    /// Nothing was sent (the executor is not configured, or refused before sending).
    #[error("not sent: {0}")]
    NotSent(String),
}

/// Sends mirror orders. Every call carries the fill's idempotency key as the client order id:
/// a second call with the same key must return the first call's result, never a second order.
#[async_trait]
pub trait Executor: Send + Sync {
    /// The executor's stored name (`paper`, `clob`).
    fn name(&self) -> &'static str;

    /// Places `intent` for `route`.
    ///
    /// # Errors
    /// [`ExecError::Ambiguous`] when the outcome is unknown; [`ExecError::NotSent`] when
    /// nothing was sent.
    async fn place(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError>;

    /// What became of the order sent with `key` (after a crash or an ambiguous answer);
    /// `None` when the venue never received it, so it may be sent.
    ///
    /// # Errors
    /// [`ExecError::Ambiguous`] when the venue cannot be asked now.
    async fn reconcile(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError>;

    /// What the venue reports now for an order it accepted as `venue_order_id`; `None` when
    /// it does not know it. An executor whose answers are final at once (paper) never has
    /// an order to read back and keeps this default.
    ///
    /// # Errors
    /// [`ExecError::Ambiguous`] when the venue cannot be asked now.
    async fn status(
        &self,
        _route: Route,
        _venue_order_id: &str,
    ) -> Result<Option<Placement>, ExecError> {
        Ok(None)
    }
}

/// The paper executor: prop-engine's service, with the key as the decision action id (which
/// prop-engine executes at most once per account).
pub struct PaperExecutor {
    prop: Arc<dyn PropService>,
}

impl PaperExecutor {
    /// An executor over `prop`.
    pub fn new(prop: Arc<dyn PropService>) -> Self {
        Self { prop }
    }
}

/// The market-memory key of an outcome token.
pub fn outcome_key(asset: &str) -> Result<InstrumentKey, String> {
    InstrumentKey::outcome("polymarket", asset).map_err(|error| error.to_string())
}

#[async_trait]
impl Executor for PaperExecutor {
    fn name(&self) -> &'static str {
        "paper"
    }

    async fn place(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError> {
        let account = route
            .paper_account
            .ok_or_else(|| ExecError::NotSent("no copy-mirror paper account".into()))?;
        let instrument = outcome_key(&intent.asset).map_err(ExecError::NotSent)?;
        let request = OrderRequest {
            decision_action_id: Some(key.to_hex()),
            instrument: instrument.to_string(),
            side: intent.side.side(),
            size: intent.size,
            limit_price: Some(intent.limit_price),
            reduce_only: intent.side == TradeSide::Sell,
            time_in_force: TimeInForce::Ioc,
        };
        match self.prop.place_order(route.owner, account, request).await {
            Ok(outcome) => Ok(match outcome.order.status {
                OrderStatus::Rejected => Placement::Rejected {
                    reason: outcome
                        .order
                        .rejection_code
                        .unwrap_or_else(|| "rejected".into()),
                },
                _ => Placement::Accepted {
                    venue_order_id: outcome.order.id.to_string(),
                    filled: outcome.order.filled_size,
                    done: true,
                },
            }),
            // Refused before anything was recorded: nothing exists at the venue.
            Err(
                error @ (PropError::InvalidInput(_)
                | PropError::AccountNotFound
                | PropError::AccountClosed),
            ) => Ok(Placement::Rejected {
                reason: error.to_string(),
            }),
            Err(error) => Err(ExecError::Ambiguous(error.to_string())),
        }
    }

    async fn reconcile(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError> {
        // prop-engine answers a repeated action id with the first result, so asking is
        // placing: it executes at most once.
        self.place(route, intent, key).await.map(Some)
    }
}
