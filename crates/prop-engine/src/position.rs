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
    round_mantissa(value.mantissa(), value.scale()).unwrap_or_else(|| money(value))
}

/// [`round_money`] of the value `mantissa · 10^-scale` when it takes the 128-bit path (a
/// non-zero value with more than [`SCALE`] places); `None` for the values left to [`money`].
fn round_mantissa(mantissa: i128, scale: u32) -> Option<Decimal> {
    let &divisor = scale
        .checked_sub(SCALE)
        .filter(|shift| *shift > 0)
        .and_then(|shift| POWERS_OF_TEN.get(shift as usize))?;
    if mantissa == 0 {
        return None;
    }
    let magnitude = mantissa.unsigned_abs();
    let divisor = u128::from(divisor);
    let mut rounded = magnitude / divisor;
    // Half away from zero: the divisor is even, so the remainder is at least half of it
    // exactly when twice the remainder reaches it.
    if (magnitude % divisor) * 2 >= divisor {
        rounded += 1;
    }
    let rounded = i128::try_from(rounded).ok()?;
    let signed = if mantissa < 0 { -rounded } else { rounded };
    Decimal::try_from_i128_with_scale(signed, SCALE).ok()
}

/// `size · (mark − entry)` as a mantissa and scale, for the operands whose difference and
/// product `rust_decimal` computes exactly: all three non-zero, the two prices' mantissas
/// under `2^64` and still under `2^96` once aligned to the larger scale (so the subtraction
/// is exact, at that scale), a non-zero difference and a size under `2^63` (so the product
/// fits 128 bits), and a product under `2^96` at a scale of at most 28 (so the multiplication
/// is exact, at the sum of the scales, with the sign of the product). Marking to market
/// repeats this on every bar; `None` leaves every other case to `Decimal`'s operators.
fn exact_unrealized(size: Decimal, entry: Decimal, mark: Decimal) -> Option<(i128, u32)> {
    let scale = mark.scale().max(entry.scale());
    let align = |value: Decimal| {
        let mantissa = value.mantissa();
        let power = POWERS_OF_TEN.get((scale - value.scale()) as usize)?;
        // Under 2^64 · 10^18 < 2^124: exact in 128 bits.
        let aligned = (mantissa != 0 && mantissa.unsigned_abs() >> 64 == 0)
            .then(|| mantissa * i128::from(*power))?;
        (aligned.unsigned_abs() >> 96 == 0).then_some(aligned)
    };
    let difference = align(mark)? - align(entry)?;
    let size_mantissa = size.mantissa();
    if difference == 0
        || difference.unsigned_abs() >> 63 != 0
        || size_mantissa == 0
        || size_mantissa.unsigned_abs() >> 63 != 0
    {
        return None;
    }
    let product = size_mantissa * difference;
    let product_scale = size.scale() + scale;
    (product_scale <= 28 && product.unsigned_abs() >> 96 == 0).then_some((product, product_scale))
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
        // The same value, bit for bit, computed on the mantissas when that is exact: a
        // backtest marks its positions on every bar.
        exact_unrealized(self.size, self.avg_entry, mark)
            .and_then(|(mantissa, scale)| round_mantissa(mantissa, scale))
            .unwrap_or_else(|| round_money(self.size * (mark - self.avg_entry)))
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
        fn marks_on_the_mantissas_equal_the_decimal_operators(
            size in any::<i128>(),
            entry in any::<i128>(),
            mark in any::<i128>(),
            scales in (0_u32..=28, 0_u32..=28, 0_u32..=28),
            widths in (0_u32..128, 0_u32..128, 0_u32..128),
        ) {
            // Mantissas of every width, zeros and signs included.
            let value = |mantissa: i128, width: u32, scale: u32| {
                Decimal::from_i128_with_scale(
                    (mantissa >> width) % 79_228_162_514_264_337_593_543_950_336,
                    scale,
                )
            };
            let position = Position {
                size: value(size, widths.0, scales.0),
                avg_entry: value(entry, widths.1, scales.1),
            };
            let mark = value(mark, widths.2, scales.2);
            // Operands whose product overflows make the operators panic: not marks.
            let Some(expected) = mark
                .checked_sub(position.avg_entry)
                .and_then(|difference| position.size.checked_mul(difference))
            else {
                return Ok(());
            };
            let expected = round_money(expected);
            prop_assert!(
                same_bits(position.unrealized_pnl(mark), expected),
                "{:?} at {:?}", position, mark
            );
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
