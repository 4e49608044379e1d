//! A prop account in memory: ledger balances plus positions, updated by executions, funding,
//! settlement and adjustments through the same functions the database path uses.
//!
//! The service loads the part of an account an operation touches into a [`PaperAccount`],
//! applies the operation here, and writes back what changed; backtests and benchmarks run it
//! purely in memory.

use std::collections::BTreeMap;

use clones_market::{InstrumentKey, Side};
use rust_decimal::Decimal;

use crate::fill::{Execution, FeeSchedule};
use crate::ledger::{Balances, LedgerAccount, LedgerEvent};
use crate::money;
use crate::position::Position;

/// One executed leg as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillRecord {
    /// Execution price.
    pub price: Decimal,
    /// Executed size (positive).
    pub size: Decimal,
    /// Fee charged on the leg.
    pub fee: Decimal,
    /// PnL the leg realized.
    pub realized_pnl: Decimal,
}

/// What an execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeOutcome {
    /// One record per leg.
    pub fills: Vec<FillRecord>,
    /// The position before.
    pub before: Position,
    /// The position after.
    pub after: Position,
    /// The ledger event (none when nothing moved, e.g. an opening fill without fees).
    pub event: Option<LedgerEvent>,
}

impl TradeOutcome {
    /// Total realized PnL.
    pub fn realized_pnl(&self) -> Decimal {
        self.fills.iter().map(|fill| fill.realized_pnl).sum()
    }

    /// Total fees.
    pub fn fees(&self) -> Decimal {
        self.fills.iter().map(|fill| fill.fee).sum()
    }
}

/// Balances and positions of one account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaperAccount {
    /// Ledger balances.
    pub balances: Balances,
    /// Positions by instrument key (flat positions may remain).
    pub positions: BTreeMap<String, Position>,
}

impl PaperAccount {
    /// A new account funded with `starting_balance`; returns the opening event too.
    pub fn open(starting_balance: Decimal) -> (Self, Option<LedgerEvent>) {
        let mut account = Self::default();
        let event = LedgerEvent::opening(starting_balance);
        if let Some(event) = &event {
            account.balances.apply(event);
        }
        (account, event)
    }

    /// Cash.
    pub fn cash(&self) -> Decimal {
        self.balances.get(LedgerAccount::Cash)
    }

    /// The position in `instrument` (flat when none).
    pub fn position(&self, instrument: &str) -> Position {
        self.positions.get(instrument).copied().unwrap_or_default()
    }

    /// Applies an execution of `side` in `instrument`, charging `fees`.
    pub fn execute(
        &mut self,
        instrument: &InstrumentKey,
        side: Side,
        execution: &Execution,
        fees: &FeeSchedule,
    ) -> TradeOutcome {
        self.execute_keyed(instrument, &instrument.to_string(), side, execution, fees)
    }

    /// [`execute`](Self::execute) for a caller that keeps the instrument's key text
    /// (`key` must be `instrument.to_string()`, the key of [`positions`](Self::positions)),
    /// so repeated executions in one instrument, as in a backtest, do not format and
    /// allocate the key every time.
    pub fn execute_keyed(
        &mut self,
        instrument: &InstrumentKey,
        key: &str,
        side: Side,
        execution: &Execution,
        fees: &FeeSchedule,
    ) -> TradeOutcome {
        let before = self.position(key);
        let mut position = before;
        let mut fills = Vec::with_capacity(execution.legs.len());
        for leg in &execution.legs {
            let change = position.apply(side.sign() * leg.size, leg.price);
            position = change.after;
            fills.push(FillRecord {
                price: leg.price,
                size: leg.size,
                fee: fees.fee(instrument, leg.size * leg.price),
                realized_pnl: change.realized_pnl,
            });
        }
        match self.positions.get_mut(key) {
            Some(slot) => *slot = position,
            None => {
                self.positions.insert(key.to_string(), position);
            }
        }
        let realized: Decimal = fills.iter().map(|fill| fill.realized_pnl).sum();
        let fee: Decimal = fills.iter().map(|fill| fill.fee).sum();
        let event = LedgerEvent::trade(realized, fee);
        if let Some(event) = &event {
            self.balances.apply(event);
        }
        TradeOutcome {
            fills,
            before,
            after: position,
            event,
        }
    }

    /// Applies one funding payment at `rate` on `mark` to a perp position; returns the amount
    /// the account paid (negative when it received) and the event.
    pub fn apply_funding(
        &mut self,
        instrument: &str,
        mark: Decimal,
        rate: Decimal,
    ) -> (Decimal, Option<LedgerEvent>) {
        let position = self.position(instrument);
        let paid = money(position.size * mark * rate);
        let event = LedgerEvent::funding(paid);
        if let Some(event) = &event {
            self.balances.apply(event);
        }
        (paid, event)
    }

    /// Settles an outcome position at `payout` (1 or 0 per share): the position closes and its
    /// PnL is realized. Returns the PnL and the event.
    pub fn settle(&mut self, instrument: &str, payout: Decimal) -> (Decimal, Option<LedgerEvent>) {
        let position = self.position(instrument);
        let pnl = position.unrealized_pnl(payout);
        self.positions
            .insert(instrument.to_string(), Position::default());
        let event = LedgerEvent::settlement(pnl);
        if let Some(event) = &event {
            self.balances.apply(event);
        }
        (pnl, event)
    }

    /// An admin adjustment of cash.
    pub fn adjust(&mut self, amount: Decimal) -> Option<LedgerEvent> {
        let event = LedgerEvent::adjustment(amount);
        if let Some(event) = &event {
            self.balances.apply(event);
        }
        event
    }

    /// Unrealized PnL over all positions at `marks` (a position without a mark counts zero).
    pub fn unrealized_pnl(&self, marks: &BTreeMap<String, Decimal>) -> Decimal {
        self.positions
            .iter()
            .filter_map(|(key, position)| marks.get(key).map(|mark| position.unrealized_pnl(*mark)))
            .sum()
    }

    /// Gross exposure (sum of absolute notionals) at `marks`, a position without a mark valued
    /// at its entry.
    pub fn gross_exposure(&self, marks: &BTreeMap<String, Decimal>) -> Decimal {
        self.positions
            .iter()
            .map(|(key, position)| {
                position.notional(marks.get(key).copied().unwrap_or(position.avg_entry))
            })
            .sum()
    }

    /// Equity: cash plus unrealized PnL.
    pub fn equity(&self, marks: &BTreeMap<String, Decimal>) -> Decimal {
        self.cash() + self.unrealized_pnl(marks)
    }
}

#[cfg(test)]
mod tests {
    use clones_market::{InstrumentKey, Side};

    use super::*;
    use crate::fill::{FillLeg, FillSource};

    fn leg(price: Decimal, size: Decimal) -> Execution {
        Execution {
            legs: vec![FillLeg { price, size }],
            source: FillSource::MidSlippage,
        }
    }

    #[test]
    fn execute_keyed_books_exactly_as_execute() {
        let btc = InstrumentKey::perp("replay", "BTC").unwrap();
        let key = btc.to_string();
        let fees = FeeSchedule::flat(dec!(4.5));
        let (mut plain, _) = PaperAccount::open(dec!(10000));
        let (mut keyed, _) = PaperAccount::open(dec!(10000));
        let trades = [
            (Side::Buy, dec!(100), dec!(1.5)),
            (Side::Buy, dec!(110), dec!(0.5)),
            (Side::Sell, dec!(120), dec!(3)),
            (Side::Buy, dec!(90), dec!(1)),
        ];
        for (side, price, size) in trades {
            let execution = leg(price, size);
            let a = plain.execute(&btc, side, &execution, &fees);
            let b = keyed.execute_keyed(&btc, &key, side, &execution, &fees);
            assert_eq!(a, b);
            assert_eq!(plain, keyed);
        }
        assert!(plain.position(&key).is_flat());
        assert_eq!(plain.positions.len(), 1);
    }
}
