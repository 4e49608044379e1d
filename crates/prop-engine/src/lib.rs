//! Prop engine: synthetic prop accounts and their execution truth.
//!
//! This crate owns paper execution for auditions, the Arena, backtests and copy-mirror paper
//! trading: accounts with risk limits, the safety gates every order passes, fill simulation
//! against market data, positions, balances, a double-entry ledger whose events always sum to
//! zero, mark-to-market equity snapshots and the admin audit log.
//!
//! The pure core ([`fill`], [`position`], [`ledger`], [`paper`], [`gates`]) has no database,
//! clock or IO, so backtests replay the same arithmetic in memory. Market data arrives through
//! the [`MarketFeed`] port; this crate never opens a source client or reads market memory's
//! tables. It does not decide what to trade (ai-decision proposes) and does not judge
//! auditions (lifecycle consumes its snapshots).

#[cfg(test)]
macro_rules! dec {
    ($value:literal) => {
        <rust_decimal::Decimal as std::str::FromStr>::from_str(stringify!($value))
            .unwrap_or_default()
    };
}

pub mod feed;
pub mod fill;
pub mod gates;
pub mod instrument;
pub mod ledger;
pub mod paper;
pub mod position;

use rust_decimal::{Decimal, RoundingStrategy};

pub use feed::{
    Book, FeedError, FixedMarketFeed, FundingRate, InstrumentInfo, Level, MarketFeed, MarketQuote,
    NoMarketFeed, OutcomeResolution,
};
pub use fill::{
    Execution, FeeSchedule, FillConfig, FillLeg, FillSource, NoFill, OrderSpec, OrderType, Side,
    TimeInForce,
};
pub use gates::{AccountSnapshot, AccountStatus, GateRejection, RejectReason, RiskLimits};
pub use instrument::{InstrumentKey, InstrumentKind, InvalidInstrument};
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
