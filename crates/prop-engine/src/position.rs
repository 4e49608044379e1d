//! Position arithmetic: signed size, average entry, realized and unrealized PnL.
//!
//! A position is long when its size is positive and short when negative. Adding in the same
//! direction moves the average entry; trading against it realizes PnL on the closed part at
//! the average entry; crossing zero closes the old position and opens a new one at the fill
//! price (a flip). Pure arithmetic: no fees, no ledger, no clock.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::{money, price};

/// A position in one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// Signed size: positive long, negative short, zero flat.
    pub size: Decimal,
    /// Average entry price of the open size (zero when flat).
    pub avg_entry: Decimal,
}

/// What one fill did to a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionChange {
    /// The position after the fill.
    pub after: Position,
    /// PnL realized by the closed part.
    pub realized_pnl: Decimal,
    /// The size that was closed (positive).
    pub closed: Decimal,
}

impl Position {
    /// A position of `size` at `avg_entry`.
    pub fn new(size: Decimal, avg_entry: Decimal) -> Self {
        if size.is_zero() {
            return Self::default();
        }
        Self { size, avg_entry }
    }

    /// Whether the position is flat.
    pub fn is_flat(&self) -> bool {
        self.size.is_zero()
    }

    /// Applies a fill of signed `delta` (positive buys) at `fill_price`.
    pub fn apply(&self, delta: Decimal, fill_price: Decimal) -> PositionChange {
        if delta.is_zero() {
            return PositionChange {
                after: *self,
                realized_pnl: Decimal::ZERO,
                closed: Decimal::ZERO,
            };
        }
        let same_direction =
            self.size.is_zero() || (self.size > Decimal::ZERO) == (delta > Decimal::ZERO);
        if same_direction {
            let old = self.size.abs();
            let add = delta.abs();
            let avg = price((old * self.avg_entry + add * fill_price) / (old + add));
            return PositionChange {
                after: Position::new(self.size + delta, avg),
                realized_pnl: Decimal::ZERO,
                closed: Decimal::ZERO,
            };
        }
        let closed = delta.abs().min(self.size.abs());
        let direction = if self.size > Decimal::ZERO {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        let realized_pnl = money(closed * (fill_price - self.avg_entry) * direction);
        let new_size = self.size + delta;
        let after = if new_size.is_zero() {
            Position::default()
        } else if (new_size > Decimal::ZERO) == (self.size > Decimal::ZERO) {
            Position::new(new_size, self.avg_entry)
        } else {
            // Flipped: the remainder opens at the fill price.
            Position::new(new_size, fill_price)
        };
        PositionChange {
            after,
            realized_pnl,
            closed,
        }
    }

    /// PnL of the open size if closed at `mark`.
    pub fn unrealized_pnl(&self, mark: Decimal) -> Decimal {
        money(self.size * (mark - self.avg_entry))
    }

    /// Absolute notional at `mark`.
    pub fn notional(&self, mark: Decimal) -> Decimal {
        money((self.size * mark).abs())
    }

    /// Whether a fill of signed `delta` only reduces this position (never grows or flips it).
    pub fn is_reducing(&self, delta: Decimal) -> bool {
        !self.size.is_zero()
            && (self.size > Decimal::ZERO) != (delta > Decimal::ZERO)
            && delta.abs() <= self.size.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_add_then_reduce_then_close() {
        let p = Position::default();
        let a = p.apply(dec!(1), dec!(100)).after;
        let b = a.apply(dec!(1), dec!(110)).after;
        assert_eq!(b, Position::new(dec!(2), dec!(105)));
        let c = b.apply(-dec!(0.5), dec!(120));
        assert_eq!(c.realized_pnl, dec!(7.5));
        assert_eq!(c.after, Position::new(dec!(1.5), dec!(105)));
        let d = c.after.apply(-dec!(1.5), dec!(100));
        assert_eq!(d.realized_pnl, -dec!(7.5));
        assert!(d.after.is_flat());
        assert_eq!(d.after.avg_entry, Decimal::ZERO);
    }

    #[test]
    fn short_profits_when_price_falls() {
        let s = Position::default().apply(-dec!(2), dec!(50)).after;
        assert_eq!(s.unrealized_pnl(dec!(40)), dec!(20));
        let closed = s.apply(dec!(2), dec!(40));
        assert_eq!(closed.realized_pnl, dec!(20));
    }

    #[test]
    fn flip_realizes_the_old_side_and_opens_at_the_fill() {
        let long = Position::new(dec!(1), dec!(100));
        let flip = long.apply(-dec!(3), dec!(90));
        assert_eq!(flip.realized_pnl, -dec!(10));
        assert_eq!(flip.closed, dec!(1));
        assert_eq!(flip.after, Position::new(-dec!(2), dec!(90)));
        assert!(long.is_reducing(-dec!(1)));
        assert!(!long.is_reducing(-dec!(1.5)));
        assert!(!long.is_reducing(dec!(1)));
        assert!(!Position::default().is_reducing(dec!(1)));
    }
}
