//! What the prop service accepts and returns: plain data with serde and OpenAPI schemas.
//! Amounts, prices and sizes are decimal strings on the wire.

use chrono::{DateTime, Utc};
use clones_kernel::Cursor;
use clones_market::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::fill::{FillSource, TimeInForce};
use crate::gates::{AccountStatus, RejectReason, RiskLimits};
use crate::ledger::{EventKind, LedgerAccount};

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountContext {
    /// A paid audition.
    Audition,
    /// Arena competition.
    Arena,
    /// A backtest's account.
    Backtest,
    /// Paper trading of a copy-trade mirror.
    CopyMirrorPaper,
}

impl AccountContext {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountContext::Audition => "audition",
            AccountContext::Arena => "arena",
            AccountContext::Backtest => "backtest",
            AccountContext::CopyMirrorPaper => "copy_mirror_paper",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "audition" => Some(AccountContext::Audition),
            "arena" => Some(AccountContext::Arena),
            "backtest" => Some(AccountContext::Backtest),
            "copy_mirror_paper" => Some(AccountContext::CopyMirrorPaper),
            _ => None,
        }
    }
}

/// A request to open an account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenAccount {
    /// The id to open it under. With an id, opening is idempotent: a repeat (or a concurrent
    /// request) for the same owner, clone and context returns the account already opened.
    /// `None`: a new random id.
    #[serde(default)]
    pub account_id: Option<Uuid>,
    /// The clone trading it, if any.
    pub clone_id: Option<Uuid>,
    /// What it is for.
    pub context: AccountContext,
    /// The quote currency, e.g. `USDC`.
    pub quote_currency: String,
    /// The starting balance.
    #[schema(value_type = String)]
    pub starting_balance: Decimal,
    /// Risk limits; `None` takes [`RiskLimits::for_balance`].
    pub limits: Option<RiskLimits>,
}

/// A request to execute one order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    /// The decision action this order executes; repeated deliveries return the first result.
    pub decision_action_id: Option<String>,
    /// The instrument key (`venue:kind:symbol`).
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Size in instrument units.
    #[schema(value_type = String)]
    pub size: Decimal,
    /// The limit price; `None` for a market order.
    #[schema(value_type = Option<String>)]
    pub limit_price: Option<Decimal>,
    /// Only reduce an existing position.
    pub reduce_only: bool,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// One order of a batch ([`PropService::place_orders`](crate::PropService::place_orders)):
/// whose account it is for, and the order.
#[derive(Debug, Clone)]
pub struct BatchOrder {
    /// The account's owner; an account of someone else is not found.
    pub owner: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// The order.
    pub request: OrderRequest,
}

/// What a trading decision reads of an account
/// ([`PropService::trading_states`](crate::PropService::trading_states)).
#[derive(Debug, Clone)]
pub struct TradingState {
    /// The account.
    pub account: AccountView,
    /// Its open positions (flat ones left out).
    pub positions: Vec<PositionView>,
    /// Its newest equity snapshot, if mark-to-market has taken one.
    pub latest_equity: Option<EquityPoint>,
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub owner_user_id: Uuid,
    /// The clone trading it.
    pub clone_id: Option<Uuid>,
    /// What it is for.
    pub context: AccountContext,
    /// Quote currency.
    pub quote_currency: String,
    /// Starting balance.
    #[schema(value_type = String)]
    pub starting_balance: Decimal,
    /// Cash (realized value).
    #[schema(value_type = String)]
    pub cash: Decimal,
    /// Highest equity seen by mark-to-market.
    #[schema(value_type = String)]
    pub peak_equity: Decimal,
    /// Status.
    pub status: AccountStatus,
    /// Why it is halted.
    pub halted_reason: Option<String>,
    /// Risk limits.
    pub limits: RiskLimits,
    /// When it was last marked to market.
    pub last_mtm_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionView {
    /// Instrument key.
    pub instrument: String,
    /// `perp`, `spot` or `outcome`.
    pub kind: String,
    /// Signed size.
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Average entry price.
    #[schema(value_type = String)]
    pub avg_entry: Decimal,
    /// PnL realized in this instrument so far (trades and settlement).
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    /// Funding paid (negative: received).
    #[schema(value_type = String)]
    pub funding_paid: Decimal,
    /// The last funding time applied.
    pub last_funding_at: Option<DateTime<Utc>>,
    /// When an outcome position settled.
    pub settled_at: Option<DateTime<Utc>>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What became of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Filled completely.
    Filled,
    /// Filled in part; the rest was cancelled.
    PartiallyFilled,
    /// Passed the gates but the market filled nothing (stale price, limit, fill-or-kill).
    Unfilled,
    /// Refused by a safety gate.
    Rejected,
}

impl OrderStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Filled => "filled",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Unfilled => "unfilled",
            OrderStatus::Rejected => "rejected",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "filled" => Some(OrderStatus::Filled),
            "partially_filled" => Some(OrderStatus::PartiallyFilled),
            "unfilled" => Some(OrderStatus::Unfilled),
            "rejected" => Some(OrderStatus::Rejected),
            _ => None,
        }
    }
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// Id.
    pub id: Uuid,
    /// Account.
    pub account_id: Uuid,
    /// The decision action it executes.
    pub decision_action_id: Option<String>,
    /// Instrument key.
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// `market` or `limit`.
    pub order_type: String,
    /// Requested size.
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Limit price.
    #[schema(value_type = Option<String>)]
    pub limit_price: Option<Decimal>,
    /// Reduce only.
    pub reduce_only: bool,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Outcome.
    pub status: OrderStatus,
    /// Executed size.
    #[schema(value_type = String)]
    pub filled_size: Decimal,
    /// Average execution price.
    #[schema(value_type = Option<String>)]
    pub avg_fill_price: Option<Decimal>,
    /// Fees charged.
    #[schema(value_type = String)]
    pub fees: Decimal,
    /// PnL realized.
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    /// Where prices came from.
    pub fill_source: Option<FillSource>,
    /// Gate reason code (`rejected`) or no-fill code (`unfilled`).
    pub rejection_code: Option<String>,
    /// Details of the refusal.
    pub rejection_detail: Option<String>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
}

impl OrderView {
    /// The gate reason, when a gate refused the order.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        let code = self.rejection_code.as_deref()?;
        serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
    }
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FillView {
    /// Id.
    pub id: Uuid,
    /// Order.
    pub order_id: Uuid,
    /// Position in the order's fills.
    pub seq: i32,
    /// Instrument key.
    pub instrument: String,
    /// Side.
    pub side: Side,
    /// Price.
    #[schema(value_type = String)]
    pub price: Decimal,
    /// Size.
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Fee.
    #[schema(value_type = String)]
    pub fee: Decimal,
    /// Realized PnL.
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    /// Where the price came from.
    pub source: FillSource,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl FillView {
    /// The forward-read position of this fill: its time and id (see
    /// [`PropService::fills_after`](crate::PropService::fills_after)).
    pub fn position(&self) -> Cursor {
        Cursor::new(self.created_at, self.id)
    }
}

/// The result of placing an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderOutcome {
    /// The order.
    pub order: OrderView,
    /// Its fills.
    pub fills: Vec<FillView>,
    /// False when the decision action had already been executed and this is that result.
    pub created: bool,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryView {
    /// The ledger account.
    pub ledger_account: LedgerAccount,
    /// Signed amount.
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// One ledger event with its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEventView {
    /// Id.
    pub id: Uuid,
    /// Why value moved.
    pub kind: EventKind,
    /// The order (trades).
    pub order_id: Option<Uuid>,
    /// The instrument or audit entry it refers to.
    pub reference: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Entries; they sum to zero.
    pub entries: Vec<LedgerEntryView>,
}

/// One point of an equity curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EquityPoint {
    /// When.
    pub at: DateTime<Utc>,
    /// Cash + unrealized PnL.
    #[schema(value_type = String)]
    pub equity: Decimal,
    /// Cash.
    #[schema(value_type = String)]
    pub cash: Decimal,
    /// Unrealized PnL.
    #[schema(value_type = String)]
    pub unrealized_pnl: Decimal,
    /// Gross exposure / max leverage.
    #[schema(value_type = String)]
    pub used_margin: Decimal,
    /// Sum of absolute notionals.
    #[schema(value_type = String)]
    pub gross_exposure: Decimal,
    /// Peak equity so far.
    #[schema(value_type = String)]
    pub peak_equity: Decimal,
    /// Peak minus equity.
    #[schema(value_type = String)]
    pub drawdown: Decimal,
}

impl EquityPoint {
    /// The forward-read position of the snapshot taken at `at` (see
    /// [`PropService::equity_after`](crate::PropService::equity_after)). An account has at
    /// most one snapshot per instant, so its time places it; the largest id sorts the position
    /// after that snapshot whatever its id.
    pub fn position_at(at: DateTime<Utc>) -> Cursor {
        Cursor::new(at, Uuid::max())
    }

    /// The forward-read position of this snapshot: [`EquityPoint::position_at`] its time.
    pub fn position(&self) -> Cursor {
        Self::position_at(self.at)
    }
}

/// A tracked balance next to the one derived from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciledBalance {
    /// The ledger account.
    pub ledger_account: LedgerAccount,
    /// The balance in `prop_account_balances`.
    #[schema(value_type = String)]
    pub tracked: Decimal,
    /// The sum of its ledger entries.
    #[schema(value_type = String)]
    pub derived: Decimal,
}

/// A position's stored size next to the one derived from its fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciledPosition {
    /// The instrument key.
    pub instrument: String,
    /// The size in `prop_positions` (signed; zero when absent).
    #[schema(value_type = String)]
    pub tracked: Decimal,
    /// The signed sum of its fills (buys add, sells subtract); zero once the position was
    /// settled, since settlement closes it without a fill.
    #[schema(value_type = String)]
    pub derived: Decimal,
}

/// The proof that an account's balances equal its ledger and its positions equal its fills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Account.
    pub account_id: Uuid,
    /// Every ledger account touched.
    pub balances: Vec<ReconciledBalance>,
    /// Every instrument with a position or a fill.
    pub positions: Vec<ReconciledPosition>,
    /// Sum of every entry (zero when the ledger is sound).
    #[schema(value_type = String)]
    pub ledger_total: Decimal,
    /// True when each tracked balance equals its derived one, the ledger sums to zero and each
    /// position's size equals its derived one.
    pub balanced: bool,
}

/// What funding or settlement did to an account.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CarryReport {
    /// Funding payments applied.
    pub funding_payments: u32,
    /// Total funding paid (negative: received).
    #[schema(value_type = String)]
    pub funding_paid: Decimal,
    /// Outcome positions settled.
    pub settlements: u32,
    /// PnL realized by settlements.
    #[schema(value_type = String)]
    pub settlement_pnl: Decimal,
}

/// What a mark-to-market pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MtmReport {
    /// Accounts snapshotted.
    pub accounts: u64,
    /// Positions without a usable mark (valued at entry).
    pub unmarked_positions: u64,
}

/// An admin action on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Id.
    pub id: Uuid,
    /// The admin.
    pub admin_user_id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// `halt`, `resume` or `adjustment`.
    pub action: String,
    /// The reason given.
    pub reason: String,
    /// Action details (amounts, ledger event id).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A profitable fill of an Arena account held for a clone, for economy's royalty booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArenaProfit {
    /// The fill (the idempotency key of its royalty).
    pub fill_id: Uuid,
    /// The Arena account.
    pub account_id: Uuid,
    /// The account's owner (the clone's owner).
    pub owner_user_id: Uuid,
    /// The clone the account trades for.
    pub clone_id: Uuid,
    /// The account's quote currency.
    pub quote_currency: String,
    /// The profit the fill realised (> 0).
    pub realized_pnl: Decimal,
    /// When the fill happened.
    pub created_at: DateTime<Utc>,
}
