//! Prop engine: synthetic prop accounts and their execution truth.
//!
//! This crate owns paper execution for auditions, the Arena, backtests and copy-mirror paper
//! trading: accounts with risk limits, the safety gates every order passes, fill simulation
//! against market data, positions, balances, a double-entry ledger whose events always sum to
//! zero, mark-to-market equity snapshots and the admin audit log.
//!
//! The pure core ([`fill`], [`position`], [`ledger`], [`paper`], [`gates`]) has no database,
//! clock or IO, so backtests replay the same arithmetic in memory. Market data arrives through
//! the [`MarketFeed`] port, implemented over market memory's read trait by
//! [`MarketMemoryFeed`]; this crate never opens a source client or reads market memory's
//! tables. It does not decide what to trade (ai-decision proposes) and does not judge
//! auditions (lifecycle consumes its snapshots).

#[cfg(test)]
macro_rules! dec {
    ($value:literal) => {
        <rust_decimal::Decimal as std::str::FromStr>::from_str(stringify!($value))
            .unwrap_or_default()
    };
}

mod error;
pub mod feed;
pub mod fill;
pub mod gates;
pub mod ledger;
mod market_memory;
mod models;
pub mod paper;
pub mod position;
mod repo;
mod service;
pub mod views;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_kernel::{Page, PageRequest};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

pub use error::PropError;
pub use market_memory::MarketMemoryFeed;
pub use service::{MAX_ACTION_ID_LEN, MAX_AMOUNT, OrderLaneSettings, PgPropService, PropSettings};
pub use views::*;

pub use feed::{
    Book, FeedError, FixedMarketFeed, FundingRate, InstrumentInfo, Level, MarketFeed, MarketQuote,
    NoMarketFeed, OutcomeResolution,
};
pub use fill::{
    Execution, FeeSchedule, FillConfig, FillLeg, FillSource, NoFill, OrderSpec, OrderType,
    TimeInForce,
};
pub use gates::{AccountSnapshot, AccountStatus, GateRejection, RejectReason, RiskLimits};
pub use ledger::{Balances, EventKind, LedgerAccount, LedgerEvent};
pub use paper::{PaperAccount, TradeOutcome};
pub use position::Position;

/// Decimal places of every stored amount, price and size (`NUMERIC(28, 10)`).
pub const SCALE: u32 = 10;

/// Rounds a money amount to the ledger's scale (half away from zero).
pub fn money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds a price to the stored scale (half away from zero).
pub fn price(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Prop accounts: execution, owner reads, carry, reconciliation, admin and mark-to-market.
///
/// Owner methods take the caller's user id and answer [`PropError::AccountNotFound`] for
/// someone else's account. Operator, worker and admin methods run in audited cross-tenant
/// transactions; callers check roles before calling them.
#[async_trait]
pub trait PropService: Send + Sync {
    /// Opens an account for `owner`, funded with its starting balance (an `opening` ledger
    /// event). Called by the contexts that create accounts (lifecycle, backtest, copy-mirror).
    async fn open_account(
        &self,
        owner: Uuid,
        request: OpenAccount,
    ) -> Result<AccountView, PropError>;

    /// Executes one order: gates, fill, position, balances and ledger in one transaction.
    /// A gate refusal or a no-fill is recorded and returned as the order's status. With a
    /// decision action id, every later or concurrent delivery returns the first result with
    /// `created = false`.
    async fn place_order(
        &self,
        owner: Uuid,
        account_id: Uuid,
        request: OrderRequest,
    ) -> Result<OrderOutcome, PropError>;

    /// Executes many accounts' orders (of any owners: a system caller such as the decision
    /// cycle) in one transaction, each exactly as [`PropService::place_order`] would, in the
    /// given order within an account. Answers one result per order, in the order given: an
    /// invalid order or an account that is not its owner's is refused alone; anything that
    /// would leave the batch half-done rolls it back and executes its orders one at a time.
    ///
    /// # Errors
    /// Only when the market feed cannot be read; then nothing was executed.
    async fn place_orders(
        &self,
        orders: Vec<BatchOrder>,
    ) -> Result<Vec<Result<OrderOutcome, PropError>>, PropError>;

    /// The account, open positions and newest equity snapshot of many accounts, each named
    /// with its owner, in a fixed number of reads (a system caller: the decision cycle). One
    /// answer per account, in the order given: `None` when the account is not its named
    /// owner's.
    ///
    /// # Errors
    /// When the reads fail or a stored row cannot be read.
    async fn trading_states(
        &self,
        accounts: Vec<(Uuid, Uuid)>,
    ) -> Result<Vec<Option<TradingState>>, PropError>;

    /// The trading fees `account_id` has paid since it opened (its `fees` ledger balance).
    ///
    /// # Errors
    /// `prop_account_not_found` for someone else's account; database failures.
    async fn fees_paid(&self, owner: Uuid, account_id: Uuid) -> Result<Decimal, PropError>;

    /// The owner's accounts, newest first.
    async fn accounts(&self, owner: Uuid) -> Result<Vec<AccountView>, PropError>;

    /// One of the owner's accounts.
    async fn account(&self, owner: Uuid, account_id: Uuid) -> Result<AccountView, PropError>;

    /// The account's positions (flat ones included, for their realized PnL).
    async fn positions(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Vec<PositionView>, PropError>;

    /// The account's orders, newest first by (creation time, id), one page at a time.
    async fn orders(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<OrderView>, PropError>;

    /// The account's fills, newest first by (creation time, id), one page at a time.
    async fn fills(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError>;

    /// The account's ledger events with their entries, newest first by (creation time, id),
    /// one page at a time.
    async fn ledger(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<LedgerEventView>, PropError>;

    /// The account's equity snapshots, newest first by (time, id), one page at a time.
    async fn equity_curve(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError>;

    /// The latest equity snapshot, if any.
    async fn latest_equity(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Option<EquityPoint>, PropError>;

    /// The account's equity snapshots after the page's cursor (from the first without one),
    /// oldest first by (time, id), at most the page's limit. For consumers that follow the
    /// curve incrementally: the position after a point is [`EquityPoint::position`], and the
    /// page's `next_cursor` is the last point's when more follow.
    async fn equity_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError>;

    /// The account's fills after the page's cursor (from the first without one), oldest first
    /// by (creation time, id), at most the page's limit. The fills of one order share its
    /// timestamp, so the id keeps a page that ends inside an order from skipping the rest of
    /// it: the position after a fill is [`FillView::position`], and the page's `next_cursor`
    /// is the last fill's when more follow.
    async fn fills_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError>;

    /// Worker (economy's royalty booking): profitable fills (`realized_pnl > 0`) of Arena
    /// accounts held for a clone, after the page's cursor (from the first without one) and
    /// created at or before `until`, oldest first by (creation time, id), at most the page's
    /// limit. `until` lets the caller stay behind fills whose transactions may still commit
    /// with an earlier timestamp; the page's `next_cursor` is the last fill's when more follow.
    async fn arena_profits_after(
        &self,
        page: PageRequest,
        until: DateTime<Utc>,
    ) -> Result<Page<ArenaProfit>, PropError>;

    /// Operator: proves the tracked balances equal the sums of the ledger's entries.
    async fn reconcile(&self, account_id: Uuid) -> Result<ReconcileReport, PropError>;

    /// Worker: applies due perp funding (once per funding time) and settles resolved outcome
    /// positions.
    async fn apply_funding_and_settlement(
        &self,
        account_id: Uuid,
    ) -> Result<CarryReport, PropError>;

    /// Worker: [`PropService::apply_funding_and_settlement`] for up to `batch` accounts that
    /// hold open positions, summed. Both are idempotent, so a repeated pass applies nothing twice.
    async fn apply_carry_due(&self, batch: u32) -> Result<CarryReport, PropError>;

    /// Admin: halts an account (no order executes until resumed).
    async fn halt(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError>;

    /// Admin: resumes a halted account.
    async fn resume(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError>;

    /// Admin: credits (positive) or debits cash with an `adjustment` ledger event.
    async fn adjust(
        &self,
        admin: Uuid,
        account_id: Uuid,
        amount: Decimal,
        reason: &str,
    ) -> Result<AuditEntry, PropError>;

    /// Admin: the audit log, newest first by (time, id), optionally for one account, one page
    /// at a time.
    async fn audit_log(
        &self,
        account_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, PropError>;

    /// Worker: snapshots equity, margin, exposure and drawdown of up to `batch` accounts not
    /// marked at the current instant, in id order.
    async fn mark_to_market(&self, batch: u32) -> Result<MtmReport, PropError>;
}
