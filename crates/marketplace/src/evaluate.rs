//! Backtests on the reference data set the project ships, and what the pipeline reads from
//! them (pure, deterministic):
//!
//! - the reference data: a generated daily series of 1 500 bars in four regimes (rising,
//!   falling, ranging, rising again) from a fixed seed, served for every asset and timeframe a
//!   strategy reads, so any strategy runs on the same market;
//! - [`evaluate`]: one backtest (10 000 cash, 0.1 % commission) with its metrics and its
//!   *behaviour*, the per-bar equity returns;
//! - [`correlation`]: how alike two behaviours are (Pearson); two strategies whose behaviours
//!   correlate above [`NEAR_DUPLICATE_CORRELATION`] are behavioural duplicates, which exact
//!   fingerprints miss (renamed nodes, an SMA of 30 against one of 31);
//! - [`robustness`]: a score in [0, 1] from walk-forward out-of-sample efficiency and the
//!   spread of Sharpe ratios over parameter perturbations.

use std::collections::BTreeMap;

use clones_backtest::{
    BacktestError, BacktestInput, BacktestSettings, FoldMode, Metrics, TradedInstrument,
    WalkForward, run, walk_forward,
};
use clones_market::{InstrumentKey, Timeframe};
use clones_strategy::{Bar, CompiledPlan, MarketWindow, SeriesKey};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::rng::Rng;

/// Bars in the reference data set.
pub const REFERENCE_BARS: usize = 1_500;

/// Above this correlation of behaviours, two strategies are duplicates.
pub const NEAR_DUPLICATE_CORRELATION: f64 = 0.97;

/// The first bar's open time: 2020-01-01T00:00:00Z.
const REFERENCE_START: i64 = 1_577_836_800;

/// The reference closes, open to close, for `count` bars.
fn reference_closes(count: usize) -> Vec<(f64, f64, f64, f64)> {
    let mut rng = Rng::new(0x5EED_2026);
    let mut uniform = move || (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
    let mut price = 100.0_f64;
    let mut bars = Vec::with_capacity(count);
    for index in 0..count {
        // Four regimes of equal length: drift per bar.
        let drift = match index * 4 / count.max(1) {
            0 => 0.0015,
            1 => -0.0012,
            2 => 0.0,
            _ => 0.0010,
        };
        // A normal draw (Box-Muller) scaled to 2 % daily volatility.
        let (u1, u2) = (uniform().max(1e-12), uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let open = price;
        let close = (open * (1.0 + drift + 0.02 * normal)).max(1.0);
        let wick = 1.0 + 0.005 * uniform();
        bars.push((open, open.max(close) * wick, open.min(close) / wick, close));
        price = close;
    }
    bars
}

/// The reference bars at `timeframe` (one bar per period from 2020-01-01).
pub fn reference_bars(timeframe: Timeframe, count: usize) -> Vec<Bar> {
    let step = timeframe.seconds().unwrap_or(86_400);
    let money = |value: f64| Decimal::from_f64(value).unwrap_or_default().round_dp(4);
    reference_closes(count)
        .into_iter()
        .enumerate()
        .map(|(index, (open, high, low, close))| Bar {
            time: REFERENCE_START + step * i64::try_from(index).unwrap_or(0),
            open: money(open),
            high: money(high),
            low: money(low),
            close: money(close),
            volume: Decimal::from(1_000),
        })
        .collect()
}

/// One strategy on the reference data.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The backtest's metrics.
    pub metrics: Metrics,
    /// The per-bar equity returns.
    pub behaviour: Vec<f64>,
    /// The backtest's result hash.
    pub result_hash: String,
}

/// Why a strategy cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluateError {
    /// The strategy reads prediction-market outcomes, which the reference data lacks.
    #[error("the reference data has no prediction-market outcomes")]
    Outcomes,
    /// The backtest refused.
    #[error(transparent)]
    Backtest(#[from] BacktestError),
}

fn window(plan: &CompiledPlan, bars: usize) -> Result<MarketWindow, EvaluateError> {
    let mut window = MarketWindow::new();
    for requirement in plan.requirements() {
        match &requirement.series {
            SeriesKey::Candles(key) => {
                window = window.with_candles(
                    &key.asset,
                    key.timeframe,
                    reference_bars(key.timeframe, bars),
                );
            }
            SeriesKey::Outcome(_) => return Err(EvaluateError::Outcomes),
        }
    }
    Ok(window)
}

fn instruments(plan: &CompiledPlan) -> Result<BTreeMap<String, TradedInstrument>, EvaluateError> {
    plan.traded_assets()
        .iter()
        .map(|asset| {
            let key = InstrumentKey::perp("reference", asset)
                .map_err(|error| BacktestError::NoInstrument(format!("{asset}: {error}")))?;
            Ok((asset.clone(), TradedInstrument::new(key)))
        })
        .collect()
}

fn settings() -> BacktestSettings {
    BacktestSettings {
        cash: Decimal::from(10_000),
        commission: Some(Decimal::new(1, 3)),
        ..BacktestSettings::default()
    }
}

/// Runs `body` on `plan` over the first `bars` reference bars, with the reference settings.
fn on_reference<T>(
    plan: &CompiledPlan,
    bars: usize,
    body: impl FnOnce(&BacktestInput<'_>, &BacktestSettings) -> Result<T, BacktestError>,
) -> Result<T, EvaluateError> {
    let window = window(plan, bars)?;
    let instruments = instruments(plan)?;
    let input = BacktestInput {
        plan,
        window: &window,
        instruments: &instruments,
        from: None,
        to: None,
    };
    Ok(body(&input, &settings())?)
}

/// Backtests `plan` on the first `bars` reference bars.
///
/// # Errors
/// [`EvaluateError`] when the strategy cannot run on the reference data.
pub fn evaluate(plan: &CompiledPlan, bars: usize) -> Result<Evaluation, EvaluateError> {
    let report = on_reference(plan, bars, run)?;
    let equity: Vec<f64> = report
        .equity
        .iter()
        .map(|point| rust_decimal::prelude::ToPrimitive::to_f64(&point.equity).unwrap_or(0.0))
        .collect();
    let behaviour = equity
        .windows(2)
        .map(|pair| {
            if pair[0] > 0.0 {
                pair[1] / pair[0] - 1.0
            } else {
                0.0
            }
        })
        .collect();
    Ok(Evaluation {
        metrics: report.metrics,
        behaviour,
        result_hash: report.result_hash,
    })
}

/// Walk-forward out-of-sample efficiency of `plan` on the reference data (4 rolling folds,
/// 70 % in sample), clamped to [0, 1].
///
/// # Errors
/// As [`evaluate`].
pub fn walk_forward_efficiency(plan: &CompiledPlan, bars: usize) -> Result<f64, EvaluateError> {
    let folds = WalkForward {
        folds: 4,
        in_sample_ratio: 0.7,
        mode: FoldMode::Rolling,
    };
    let report = on_reference(plan, bars, |input, settings| {
        walk_forward(input, settings, &folds)
    })?;
    Ok(report.efficiency.clamp(0.0, 1.0))
}

/// Pearson correlation of two behaviours over their common length; `None` when either is
/// flat (a strategy that never trades has no behaviour to compare).
pub fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / n as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    (va > 1e-18 && vb > 1e-18).then(|| cov / (va.sqrt() * vb.sqrt()))
}

/// Robustness in [0, 1]: half the walk-forward efficiency, half the stability of the Sharpe
/// ratio under parameter perturbations (1 when the perturbed Sharpes stay within 0.25 of
/// the strategy's own on average, falling linearly to 0 at a mean gap of 1.25).
pub fn robustness(efficiency: f64, sharpe: f64, perturbed_sharpes: &[f64]) -> f64 {
    let stability = if perturbed_sharpes.is_empty() {
        0.0
    } else {
        let gap = perturbed_sharpes
            .iter()
            .map(|other| (other - sharpe).abs())
            .sum::<f64>()
            / perturbed_sharpes.len() as f64;
        (1.0 - (gap - 0.25).max(0.0)).clamp(0.0, 1.0)
    };
    (0.5 * efficiency.clamp(0.0, 1.0) + 0.5 * stability).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_data_is_fixed_and_well_formed() {
        let bars = reference_bars(Timeframe::D1, REFERENCE_BARS);
        assert_eq!(bars, reference_bars(Timeframe::D1, REFERENCE_BARS));
        assert_eq!(bars.len(), REFERENCE_BARS);
        for bar in &bars {
            assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close));
            assert!(bar.low > Decimal::ZERO);
        }
    }

    #[test]
    fn correlation_is_one_for_the_same_behaviour_and_none_for_a_flat_one() {
        let a = [0.01, -0.02, 0.03, 0.0];
        assert!((correlation(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        assert!(correlation(&a, &[0.0; 4]).is_none());
        let b = [-0.01, 0.02, -0.03, 0.0];
        assert!((correlation(&a, &b).unwrap() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn robustness_rewards_efficiency_and_stable_neighbours() {
        assert!((robustness(1.0, 1.0, &[1.0, 1.1]) - 1.0).abs() < 1e-12);
        assert!(robustness(0.0, 1.0, &[-2.0, 3.0]) < 0.01);
        assert!(robustness(0.5, 1.0, &[0.9]) > robustness(0.5, 1.0, &[0.2]));
    }
}
