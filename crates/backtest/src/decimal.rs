//! Exact shortcuts for the decimal operations the engine and the metrics repeat on every bar:
//! the same answers as `rust_decimal`'s, for less work on the values bars and ledgers hold.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// `10^n` for `n` up to 18.
const POWERS_OF_TEN: [i128; 19] = {
    let mut powers = [1i128; 19];
    let mut n = 1;
    while n < 19 {
        powers[n] = powers[n - 1] * 10;
        n += 1;
    }
    powers
};

/// A decimal compared with many others (a stop level with every bar's prices): its mantissa
/// and scale read out once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    value: Decimal,
    mantissa: i128,
    scale: u32,
}

impl Split {
    pub(crate) fn new(value: Decimal) -> Self {
        Split {
            value,
            mantissa: value.mantissa(),
            scale: value.scale(),
        }
    }

    pub(crate) fn value(&self) -> Decimal {
        self.value
    }
}

/// `a` against `b` by value: what `Decimal`'s `Ord` answers (zeros of either sign equal).
pub(crate) fn compare(a: Decimal, b: Decimal) -> Ordering {
    compare_split(a, &Split::new(b))
}

/// `a` against `b` by value, as [`compare`].
///
/// A bar price and a level usually differ in scale, and `rust_decimal` aligns the two by
/// multiplying 32-bit words in a loop on every comparison; this aligns the one with the
/// smaller scale by a single 128-bit multiplication when its mantissa is under `2^64` and the
/// scales differ by at most 18 (so the product stays under `2^124`: exact), and leaves every
/// other pair to `Decimal`'s `Ord`.
pub(crate) fn compare_split(a: Decimal, b: &Split) -> Ordering {
    let (left, right) = (a.mantissa(), b.mantissa);
    let (left_scale, right_scale) = (a.scale(), b.scale);
    let aligned = if left_scale >= right_scale {
        POWERS_OF_TEN
            .get((left_scale - right_scale) as usize)
            .filter(|_| right.unsigned_abs() >> 64 == 0)
            .map(|power| (left, right * power))
    } else {
        POWERS_OF_TEN
            .get((right_scale - left_scale) as usize)
            .filter(|_| left.unsigned_abs() >> 64 == 0)
            .map(|power| (left * power, right))
    };
    match aligned {
        Some((left, right)) => left.cmp(&right),
        None => a.cmp(&b.value),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::compare;

    #[test]
    fn comparison_is_decimals_order() {
        let mut values = vec![
            Decimal::ZERO,
            Decimal::new(-0, 5),
            Decimal::new(0, 28),
            Decimal::ONE,
            Decimal::NEGATIVE_ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(1, 28),
            Decimal::new(-1, 28),
            Decimal::new(100, 2),
            Decimal::new(1_000_000_000_000, 12),
            Decimal::from_i128_with_scale(18_446_744_073_709_551_615, 3),
            Decimal::from_i128_with_scale(18_446_744_073_709_551_616, 3),
            Decimal::from_i128_with_scale(-18_446_744_073_709_551_616, 21),
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for scale in 0..=28 {
            for _ in 0..20 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let wide = (i128::from(state) << 32) >> (state % 96);
                values.push(Decimal::from_i128_with_scale(
                    wide % 79_228_162_514_264_337_593_543_950_335,
                    scale,
                ));
                let small = i64::try_from(state >> 34).unwrap() - (1 << 29);
                values.push(Decimal::new(small, scale));
                // The same value at another scale: equal by value.
                if scale < 20 {
                    values.push(Decimal::new(small, scale) * Decimal::new(100_000_000, 8));
                }
            }
        }
        for a in &values {
            for b in &values {
                assert_eq!(compare(*a, *b), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
