//! The metrics of a backtest, computed in one pass over the equity curve and one over the
//! trades. The formulas are on the module page (docs/modules/backtest.md); money stays
//! `Decimal`, ratios are `f64`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::decimal::compare;
use crate::report::{EquityPoint, Trade};

/// Seconds in a year of 365.25 days: markets here trade around the clock.
const YEAR_SECS: f64 = 365.25 * 86_400.0;

/// What a backtest measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// First bar close inside the range, Unix seconds.
    pub start: i64,
    /// Last bar close, Unix seconds.
    pub end: i64,
    /// `end - start`, seconds.
    pub duration_secs: i64,
    /// Bar closes with a position open, percent of all.
    pub exposure_time_pct: f64,
    /// Equity after the last bar.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub final_equity: Decimal,
    /// Highest equity seen.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub peak_equity: Decimal,
    /// `final / start − 1`, percent.
    pub total_return_pct: f64,
    /// The first traded asset's `last close / first close − 1`, percent.
    pub buy_and_hold_return_pct: f64,
    /// Compound annual growth rate, percent.
    pub cagr_pct: f64,
    /// Standard deviation of per-bar returns, annualised by the bars per year the data has,
    /// percent.
    pub volatility_ann_pct: f64,
    /// Mean over standard deviation of per-bar returns, annualised (no risk-free rate).
    pub sharpe: f64,
    /// Mean over downside deviation of per-bar returns, annualised.
    pub sortino: f64,
    /// CAGR over max drawdown.
    pub calmar: f64,
    /// Deepest fall from a peak, percent (positive).
    pub max_drawdown_pct: f64,
    /// Mean depth of the drawdowns, percent.
    pub avg_drawdown_pct: f64,
    /// Longest time below a previous peak, seconds.
    pub max_drawdown_duration_secs: i64,
    /// Round trips.
    pub trades: u32,
    /// Trades with positive PnL, percent of trades.
    pub win_rate_pct: f64,
    /// Best trade return, percent.
    pub best_trade_pct: f64,
    /// Worst trade return, percent.
    pub worst_trade_pct: f64,
    /// Mean trade return, percent.
    pub avg_trade_pct: f64,
    /// Mean time in a trade, seconds.
    pub avg_trade_duration_secs: i64,
    /// Longest time in a trade, seconds.
    pub max_trade_duration_secs: i64,
    /// Gross profit over gross loss of trades (infinite without losses: reported as 0 trades
    /// with losses and `null`).
    pub profit_factor: Option<f64>,
    /// Mean PnL per trade.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub expectancy: Decimal,
    /// System quality number: √n · mean(PnL) / sd(PnL).
    pub sqn: f64,
    /// Fees paid.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub fees_paid: Decimal,
}

/// `10^n` as `f64` for `n <= 22`, the powers of ten a double holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `value` as `f64` from its mantissa and scale: exact to `f64` precision for the amounts a
/// ledger holds, and far cheaper than a general conversion, which matters once per bar.
///
/// Always `mantissa as f64 / 10f64.powi(scale)`. A mantissa below `2^64` converts as its two
/// 32-bit halves, `high · 2^32 + low`: both terms are exact, so the one rounding of the sum
/// gives the same double as converting the whole integer, without the 128-bit conversion
/// routine (and rounding is symmetric, so the sign can come after). The powers come from a
/// table: `powi` multiplies exact powers of ten up to `10^22`, so it gives the same doubles.
pub(crate) fn to_f64(value: Decimal) -> f64 {
    let mantissa = value.mantissa();
    let scale = value.scale();
    let magnitude = mantissa.unsigned_abs();
    let numerator = if magnitude >> 64 == 0 {
        let high = (magnitude >> 32) as u32;
        let low = magnitude as u32;
        let unsigned = f64::from(high) * 4_294_967_296.0 + f64::from(low);
        if mantissa < 0 { -unsigned } else { unsigned }
    } else {
        mantissa as f64
    };
    match EXACT_POWERS_OF_TEN.get(scale as usize) {
        Some(power) => numerator / power,
        None => numerator / 10f64.powi(i32::try_from(scale).unwrap_or(0)),
    }
}

/// A finite float, 0 otherwise: metrics never carry NaN or infinity.
fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

/// Inputs the curve alone does not give.
pub(crate) struct Context {
    pub starting_cash: Decimal,
    pub bar_secs: i64,
    pub first_close: Option<Decimal>,
    pub last_close: Option<Decimal>,
    pub fees_paid: Decimal,
}

/// The metrics of `curve` and `trades`.
pub(crate) fn compute(curve: &[EquityPoint], trades: &[Trade], context: &Context) -> Metrics {
    let start = curve.first().map_or(0, |point| point.time);
    let end = curve.last().map_or(0, |point| point.time);
    let duration_secs = end - start;
    let starting = to_f64(context.starting_cash);
    let final_equity = curve.last().map_or(context.starting_cash, |p| p.equity);

    // One pass over the curve: returns, drawdowns, exposure.
    let mut peak = context.starting_cash;
    // The peak as a float, converted once per new peak rather than at every bar below it.
    let mut peak_f64 = to_f64(peak);
    let mut peak_at = start;
    let mut previous = starting;
    let (mut n, mut sum, mut sum_sq, mut downside_sq) = (0u64, 0.0, 0.0, 0.0);
    let mut exposed = 0u64;
    let mut max_dd = 0.0f64;
    let mut max_dd_secs = 0i64;
    let mut depths: Vec<f64> = Vec::new();
    let mut current_depth = 0.0f64;
    for point in curve {
        let equity = to_f64(point.equity);
        if previous > 0.0 {
            let r = equity / previous - 1.0;
            n += 1;
            sum += r;
            sum_sq += r * r;
            downside_sq += r.min(0.0) * r.min(0.0);
        }
        previous = equity;
        if point.exposed {
            exposed += 1;
        }
        // A float below the peak's by far more than the two conversions can err (a few
        // units in the last place) is an equity below the peak: the exact comparison runs
        // only near the peak.
        let below = peak_f64 > 0.0 && equity < peak_f64 * (1.0 - 1e-9);
        if !below && compare(point.equity, peak).is_ge() {
            if current_depth > 0.0 {
                depths.push(current_depth);
                current_depth = 0.0;
            }
            peak = point.equity;
            peak_f64 = equity;
            peak_at = point.time;
        } else {
            let depth = 1.0 - equity / peak_f64;
            current_depth = current_depth.max(depth);
            max_dd = max_dd.max(depth);
            max_dd_secs = max_dd_secs.max(point.time - peak_at);
        }
    }
    if current_depth > 0.0 {
        depths.push(current_depth);
    }
    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
    let variance = if n > 1 {
        (sum_sq - n as f64 * mean * mean) / (n as f64 - 1.0)
    } else {
        0.0
    };
    let sd = variance.max(0.0).sqrt();
    let downside = if n > 0 {
        (downside_sq / n as f64).sqrt()
    } else {
        0.0
    };
    let years = duration_secs as f64 / YEAR_SECS;
    // Bars per year as the data has them (about 252 for daily stock bars, 365 for crypto),
    // from the bar length when the range is a single bar.
    let bars_per_year = if years > 0.0 && curve.len() > 1 {
        (curve.len() - 1) as f64 / years
    } else {
        YEAR_SECS / context.bar_secs.max(1) as f64
    };
    let growth = to_f64(final_equity) / starting;
    let cagr = if years > 0.0 && growth > 0.0 {
        growth.powf(1.0 / years) - 1.0
    } else {
        0.0
    };

    // One pass over the trades.
    let count = trades.len();
    let (mut wins, mut gross_win, mut gross_loss) = (0u32, Decimal::ZERO, Decimal::ZERO);
    let (mut best, mut worst, mut sum_ret) = (f64::MIN, f64::MAX, 0.0);
    let (mut sum_secs, mut max_secs) = (0i64, 0i64);
    let mut pnl_sum = Decimal::ZERO;
    let (mut pnl_f_sum, mut pnl_f_sq) = (0.0, 0.0);
    for trade in trades {
        if trade.pnl > Decimal::ZERO {
            wins += 1;
            gross_win += trade.pnl;
        } else {
            gross_loss -= trade.pnl;
        }
        best = best.max(trade.return_pct);
        worst = worst.min(trade.return_pct);
        sum_ret += trade.return_pct;
        let secs = trade.exit_time - trade.entry_time;
        sum_secs += secs;
        max_secs = max_secs.max(secs);
        pnl_sum += trade.pnl;
        let pnl = to_f64(trade.pnl);
        pnl_f_sum += pnl;
        pnl_f_sq += pnl * pnl;
    }
    let trades_f = count as f64;
    let (expectancy, sqn) = if count > 0 {
        let mean_pnl = pnl_f_sum / trades_f;
        let sd_pnl = if count > 1 {
            ((pnl_f_sq - trades_f * mean_pnl * mean_pnl) / (trades_f - 1.0))
                .max(0.0)
                .sqrt()
        } else {
            0.0
        };
        let sqn = if sd_pnl > 0.0 {
            trades_f.sqrt() * mean_pnl / sd_pnl
        } else {
            0.0
        };
        (
            pnl_sum / Decimal::from(u64::try_from(count).unwrap_or(u64::MAX)),
            sqn,
        )
    } else {
        (Decimal::ZERO, 0.0)
    };
    let buy_and_hold = match (context.first_close, context.last_close) {
        (Some(first), Some(last)) if first > Decimal::ZERO => {
            (to_f64(last) / to_f64(first) - 1.0) * 100.0
        }
        _ => 0.0,
    };
    Metrics {
        start,
        end,
        duration_secs,
        exposure_time_pct: finite(exposed as f64 * 100.0 / curve.len().max(1) as f64),
        final_equity,
        peak_equity: peak,
        total_return_pct: finite((growth - 1.0) * 100.0),
        buy_and_hold_return_pct: finite(buy_and_hold),
        cagr_pct: finite(cagr * 100.0),
        volatility_ann_pct: finite(sd * bars_per_year.sqrt() * 100.0),
        sharpe: if sd > 0.0 {
            finite(mean / sd * bars_per_year.sqrt())
        } else {
            0.0
        },
        sortino: if downside > 0.0 {
            finite(mean / downside * bars_per_year.sqrt())
        } else {
            0.0
        },
        calmar: if max_dd > 0.0 {
            finite(cagr / max_dd)
        } else {
            0.0
        },
        max_drawdown_pct: finite(max_dd * 100.0),
        avg_drawdown_pct: if depths.is_empty() {
            0.0
        } else {
            finite(depths.iter().sum::<f64>() / depths.len() as f64 * 100.0)
        },
        max_drawdown_duration_secs: max_dd_secs,
        trades: u32::try_from(count).unwrap_or(u32::MAX),
        win_rate_pct: if count > 0 {
            f64::from(wins) * 100.0 / trades_f
        } else {
            0.0
        },
        best_trade_pct: if count > 0 { finite(best) } else { 0.0 },
        worst_trade_pct: if count > 0 { finite(worst) } else { 0.0 },
        avg_trade_pct: if count > 0 {
            finite(sum_ret / trades_f)
        } else {
            0.0
        },
        avg_trade_duration_secs: if count > 0 {
            sum_secs / i64::try_from(count).unwrap_or(i64::MAX)
        } else {
            0
        },
        max_trade_duration_secs: max_secs,
        profit_factor: (gross_loss > Decimal::ZERO)
            .then(|| finite(to_f64(gross_win) / to_f64(gross_loss))),
        expectancy,
        sqn: finite(sqn),
        fees_paid: context.fees_paid,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{EXACT_POWERS_OF_TEN, to_f64};

    /// The definition `to_f64` must keep, bit for bit.
    fn reference(value: Decimal) -> f64 {
        value.mantissa() as f64 / 10f64.powi(i32::try_from(value.scale()).unwrap())
    }

    #[test]
    fn the_table_holds_what_powi_computes() {
        for (n, power) in EXACT_POWERS_OF_TEN.iter().enumerate() {
            assert_eq!(
                power.to_bits(),
                10f64.powi(i32::try_from(n).unwrap()).to_bits()
            );
        }
    }

    #[test]
    fn conversion_matches_the_definition() {
        // A deterministic spread of mantissas (small, 64-bit, beyond 64 bits) at every scale.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state
        };
        for scale in 0..=28 {
            for _ in 0..2_000 {
                let wide = (i128::from(next()) << 32 | i128::from(next() >> 32)) >> (next() % 64);
                let mantissas = [
                    i128::from(next() % 1_000_000_000),
                    i128::from(next() as i64),
                    wide % 79_228_162_514_264_337_593_543_950_335,
                ];
                for mantissa in mantissas {
                    for sign in [1, -1] {
                        let value = Decimal::from_i128_with_scale(sign * mantissa, scale);
                        assert_eq!(
                            to_f64(value).to_bits(),
                            reference(value).to_bits(),
                            "{value:?}"
                        );
                    }
                }
            }
        }
    }
}
