//! What a backtest is asked to do: starting cash, when orders fill, what trading costs, and
//! what happens to a position still open at the end. Plain values with serde, so a job row or
//! a command line carries them as JSON.

use clones_market::InstrumentKey;
use clones_prop_engine::FeeSchedule;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// When a decision's market order fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FillAt {
    /// At the open of the next bar of the traded asset (the default: no look-ahead).
    #[default]
    NextOpen,
    /// At the close of the bar the decision was made on.
    Close,
}

/// What happens to a position still open after the last bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndAt {
    /// Closed at the last bar's close, paying the fee (the default).
    #[default]
    Close,
    /// Left open and valued at the last close.
    Mark,
}

/// The settings of one backtest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BacktestSettings {
    /// Starting cash (and equity).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub cash: Decimal,
    /// When market orders fill.
    #[serde(default)]
    pub fill_at: FillAt,
    /// Commission as a fraction of traded value (`0.001` is 0.1%); `None` charges the
    /// venue's taker fee from prop-engine's default schedule.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub commission: Option<Decimal>,
    /// Slippage against the taker, in basis points of the fill price.
    #[serde(default, with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub slippage_bps: Decimal,
    /// What happens to open positions at the end.
    #[serde(default)]
    pub end_at: EndAt,
}

impl Default for BacktestSettings {
    fn default() -> Self {
        Self {
            cash: Decimal::from(10_000),
            fill_at: FillAt::default(),
            commission: None,
            slippage_bps: Decimal::ZERO,
            end_at: EndAt::default(),
        }
    }
}

/// The largest commission accepted: 10% of traded value.
const MAX_COMMISSION: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// The largest slippage accepted: 1000 bps.
const MAX_SLIPPAGE_BPS: i64 = 1000;

impl BacktestSettings {
    /// Checks the values are usable.
    ///
    /// # Errors
    /// A message naming the field out of range.
    pub fn validate(&self) -> Result<(), String> {
        if self.cash <= Decimal::ZERO || self.cash > Decimal::from(1_000_000_000_000i64) {
            return Err("cash must be above 0 and at most 1e12".into());
        }
        if let Some(commission) = self.commission
            && !(Decimal::ZERO..=MAX_COMMISSION).contains(&commission)
        {
            return Err("commission must be a fraction between 0 and 0.1".into());
        }
        if self.slippage_bps < Decimal::ZERO || self.slippage_bps > Decimal::from(MAX_SLIPPAGE_BPS)
        {
            return Err("slippageBps must be between 0 and 1000".into());
        }
        Ok(())
    }

    /// The fee schedule the settings charge.
    pub fn fees(&self) -> FeeSchedule {
        match self.commission {
            Some(fraction) => FeeSchedule::flat(fraction * Decimal::from(10_000)),
            None => clones_prop_engine::FillConfig::default().fees,
        }
    }
}

/// An asset the strategy trades, as the backtest prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradedInstrument {
    /// The instrument (its venue and kind choose the default fee).
    pub key: InstrumentKey,
    /// Sizes are rounded down to a multiple of this.
    pub lot_step: Decimal,
}

impl TradedInstrument {
    /// The finest lot step the ledger keeps (10 decimal places).
    pub fn finest_step() -> Decimal {
        Decimal::new(1, clones_prop_engine::SCALE)
    }

    /// `key` with the finest lot step.
    pub fn new(key: InstrumentKey) -> Self {
        Self {
            key,
            lot_step: Self::finest_step(),
        }
    }
}
