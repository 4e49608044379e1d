//! Position arithmetic: signed size, average entry, realized and unrealized PnL.
//!
//! A position is long when its size is positive and short when negative. Adding in the same
//! direction moves the average entry; trading against it realizes PnL on the closed part at
//! the average entry; crossing zero closes the old position and opens a new one at the fill
//! price (a flip). Pure arithmetic: no fees, no ledger, no clock.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::{SCALE, money, price};

/// `10^n` for `n` up to 18 (every shift from a product's scale, at most 28, down to
/// [`SCALE`]).
const POWERS_OF_TEN: [u64; 19] = {
    let mut powers = [1u64; 19];
    let mut n = 1;
    while n < 19 {
        powers[n] = powers[n - 1] * 10;
        n += 1;
    }
    powers
};

/// [`money`], bit for bit (mantissa, scale and sign), computed on the 128-bit mantissa.
///
/// `rust_decimal` rounds by dividing its three 32-bit words in steps and comparing the
/// remainder with a half it builds digit by digit; marking a position to market does this
/// on every bar, so the common case (a non-zero value with more than [`SCALE`] places) is one
/// 128-bit division and the same comparison here. Zero and values already at the scale go
/// through [`money`].
fn round_money(value: Decimal) -> Decimal {
    let scale = value.scale();
    let mantissa = value.mantissa();
    let Some(&divisor) = scale
        .checked_sub(SCALE)
        .filter(|shift| *shift > 0)
        .and_then(|shift| POWERS_OF_TEN.get(shift as usize))
    else {
        return money(value);
    };
    if mantissa == 0 {
        return money(value);
    }
    let magnitude = mantissa.unsigned_abs();
    let divisor = u128::from(divisor);
    let mut rounded = magnitude / divisor;
    // Half away from zero: the divisor is even, so the remainder is at least half of it
    // exactly when twice the remainder reaches it.
    if (magnitude % divisor) * 2 >= divisor {
        rounded += 1;
    }
    let Ok(rounded) = i128::try_from(rounded) else {
        return money(value);
    };
    let signed = if mantissa < 0 { -rounded } else { rounded };
    Decimal::try_from_i128_with_scale(signed, SCALE).unwrap_or_else(|_| money(value))
}

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
        let realized_pnl = round_money(closed * (fill_price - self.avg_entry) * direction);
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
        round_money(self.size * (mark - self.avg_entry))
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
    use proptest::prelude::*;

    use super::*;

    fn same_bits(a: Decimal, b: Decimal) -> bool {
        a.serialize() == b.serialize()
    }

    #[test]
    fn round_money_matches_money_at_the_edges() {
        let mut values = vec![
            Decimal::ZERO,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(-0, 15),
            Decimal::new(5, 11),
            Decimal::new(-5, 11),
            Decimal::new(4, 11),
            Decimal::new(-15, 11),
            Decimal::new(49_999_999_999, 21),
            Decimal::new(50_000_000_000, 21),
            Decimal::new(1, 28),
            Decimal::new(-1, 28),
        ];
        for scale in 0..=28 {
            values.push(Decimal::new(123_456_789_012_345_678, scale));
            values.push(Decimal::from_i128_with_scale(
                -79_228_162_514_264_337_593_543_950_335,
                scale,
            ));
        }
        for value in values {
            assert!(same_bits(round_money(value), money(value)), "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn round_money_matches_money(
            mantissa in any::<i128>(),
            narrow in any::<i64>(),
            scale in 0_u32..=28,
            wide in any::<bool>(),
        ) {
            let mantissa = if wide {
                mantissa % 79_228_162_514_264_337_593_543_950_336
            } else {
                i128::from(narrow)
            };
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            prop_assert!(same_bits(round_money(value), money(value)), "{:?}", value);
        }

        #[test]
        fn marks_round_as_money_does(
            size in -10_000_000_000_000_i64..10_000_000_000_000,
            entry in 1_i64..100_000_000_000_000,
            mark in 1_i64..10_000_000,
            mark_scale in 0_u32..=4,
        ) {
            let position = Position::new(Decimal::new(size, 10), Decimal::new(entry, 10));
            let mark = Decimal::new(mark, mark_scale);
            let expected = money(position.size * (mark - position.avg_entry));
            prop_assert!(same_bits(position.unrealized_pnl(mark), expected));
        }
    }

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
