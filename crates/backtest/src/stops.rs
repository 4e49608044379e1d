//! Stop-loss and take-profit levels of an open position, and the exit a bar triggers: the
//! levels are computed once per position and risk setting, then compared with every bar's
//! prices while the position is open.

use clones_strategy::{Bar, RiskSettings};
use rust_decimal::Decimal;

use crate::decimal::{Split, compare_split};
use crate::report::FillReason;

/// Exit prices of an open position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Levels {
    stop: Option<Split>,
    target: Option<Split>,
}

impl Levels {
    /// The levels of a position (`long` or short) entered at `entry` under `risk`.
    pub(crate) fn of(long: bool, entry: Decimal, risk: &RiskSettings) -> Self {
        let hundred = Decimal::ONE_HUNDRED;
        Levels {
            stop: risk.stop_loss_percent.map(|percent| {
                Split::new(if long {
                    entry * (Decimal::ONE - percent / hundred)
                } else {
                    entry * (Decimal::ONE + percent / hundred)
                })
            }),
            target: risk.take_profit_percent.map(|percent| {
                Split::new(if long {
                    entry * (Decimal::ONE + percent / hundred)
                } else {
                    entry * (Decimal::ONE - percent / hundred)
                })
            }),
        }
    }

    /// The exit `bar` triggers for a position (`long` or short) and the price it fills at. A
    /// bar that opens beyond a level fills at the open; when the bar's range reaches both
    /// levels, the stop-loss is assumed to have come first (the conservative reading of a bar
    /// whose path is unknown).
    pub(crate) fn exit(&self, long: bool, bar: &Bar) -> Option<(Decimal, FillReason)> {
        let Levels { stop, target } = self;
        if stop.is_none() && target.is_none() {
            return None;
        }
        // Long: at or below the stop, at or above the target; short: the other way round.
        let beyond = |price: Decimal, level: &Split, adverse: bool| {
            let order = compare_split(price, level);
            if long == adverse {
                order.is_le()
            } else {
                order.is_ge()
            }
        };
        let hit_stop = |price: Decimal| {
            stop.as_ref()
                .is_some_and(|level| beyond(price, level, true))
        };
        let hit_target = |price: Decimal| {
            target
                .as_ref()
                .is_some_and(|level| beyond(price, level, false))
        };
        let (adverse, favourable) = if long {
            (bar.low, bar.high)
        } else {
            (bar.high, bar.low)
        };
        if hit_stop(bar.open) {
            Some((bar.open, FillReason::StopLoss))
        } else if hit_target(bar.open) {
            Some((bar.open, FillReason::TakeProfit))
        } else if hit_stop(adverse) {
            stop.map(|level| (level.value(), FillReason::StopLoss))
        } else if hit_target(favourable) {
            target.map(|level| (level.value(), FillReason::TakeProfit))
        } else {
            None
        }
    }
}
