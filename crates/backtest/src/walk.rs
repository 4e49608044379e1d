//! Walk-forward analysis: a range split into folds of in-sample and out-of-sample bars, each
//! side backtested on its own, and how much worse the strategy does on bars it was not
//! looked at on.
//!
//! With `n` bars, `N` folds and an in-sample ratio `r`, every out-of-sample part has
//! `L = n / (N + r / (1 − r))` bars and in-sample parts `r / (1 − r) · L` bars, so the folds'
//! out-of-sample parts tile the end of the range. Rolling folds move their in-sample part
//! along; anchored ones keep it starting at the first bar.

use serde::{Deserialize, Serialize};

use crate::engine::{BacktestError, BacktestInput, run};
use crate::metrics::Metrics;
use crate::settings::BacktestSettings;

/// How in-sample parts move.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FoldMode {
    /// A fixed-length in-sample part just before each out-of-sample part.
    #[default]
    Rolling,
    /// In-sample parts all start at the first bar.
    Anchored,
}

/// A walk-forward request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WalkForward {
    /// Number of folds (2-20).
    pub folds: u32,
    /// Share of each fold that is in-sample (0.5-0.9).
    pub in_sample_ratio: f64,
    /// Rolling or anchored.
    #[serde(default)]
    pub mode: FoldMode,
}

impl WalkForward {
    /// Checks the values are usable.
    ///
    /// # Errors
    /// A message naming the field out of range.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=20).contains(&self.folds) {
            return Err("folds must be 2-20".into());
        }
        if !(0.5..=0.9).contains(&self.in_sample_ratio) {
            return Err("inSampleRatio must be 0.5-0.9".into());
        }
        Ok(())
    }
}

/// The bounds of one fold, Unix seconds (`[start, end)` by bar open time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fold {
    /// In-sample start.
    pub in_sample_from: i64,
    /// In-sample end and out-of-sample start.
    pub out_of_sample_from: i64,
    /// Out-of-sample end.
    pub out_of_sample_to: i64,
}

/// One fold's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FoldReport {
    /// Its bounds.
    pub fold: Fold,
    /// In-sample metrics.
    pub in_sample: Metrics,
    /// Out-of-sample metrics.
    pub out_of_sample: Metrics,
}

/// The walk-forward results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalkForwardReport {
    /// Per fold.
    pub folds: Vec<FoldReport>,
    /// Mean in-sample CAGR minus mean out-of-sample CAGR, percentage points.
    pub cagr_degradation_pct: f64,
    /// Mean in-sample Sharpe minus mean out-of-sample Sharpe.
    pub sharpe_degradation: f64,
    /// Mean out-of-sample CAGR over mean in-sample CAGR (walk-forward efficiency); 0 when the
    /// in-sample mean is not positive.
    pub efficiency: f64,
}

/// The folds over the open times `times` (ascending).
pub(crate) fn folds(times: &[i64], request: &WalkForward) -> Vec<Fold> {
    let n = times.len() as f64;
    let r = request.in_sample_ratio;
    let count = f64::from(request.folds);
    let oos = (n / (count + r / (1.0 - r))).floor();
    let is = (r / (1.0 - r) * oos).floor();
    if oos < 1.0 || is < 1.0 {
        return Vec::new();
    }
    let (oos, is) = (oos as usize, is as usize);
    let end_time = |index: usize| {
        times
            .get(index)
            .copied()
            .unwrap_or_else(|| times.last().map_or(0, |last| last + 1))
    };
    (0..request.folds as usize)
        .map(|k| {
            let oos_start = is + k * oos;
            let is_start = match request.mode {
                FoldMode::Rolling => oos_start - is,
                FoldMode::Anchored => 0,
            };
            Fold {
                in_sample_from: end_time(is_start),
                out_of_sample_from: end_time(oos_start),
                out_of_sample_to: end_time(oos_start + oos),
            }
        })
        .collect()
}

/// Runs `request` over the first traded asset's bars of `input`'s range.
///
/// # Errors
/// [`BacktestError::InvalidSettings`] for a bad request or too few bars for its folds, and
/// whatever [`run`] refuses.
pub fn walk_forward(
    input: &BacktestInput<'_>,
    settings: &BacktestSettings,
    request: &WalkForward,
) -> Result<WalkForwardReport, BacktestError> {
    request.validate().map_err(BacktestError::InvalidSettings)?;
    let times = crate::engine::base_times(input)?;
    let folds = folds(&times, request);
    if folds.is_empty() {
        return Err(BacktestError::InvalidSettings(
            "too few bars for the requested folds".into(),
        ));
    }
    let mut reports = Vec::with_capacity(folds.len());
    for fold in folds {
        let in_sample = run(
            &BacktestInput {
                from: Some(fold.in_sample_from),
                to: Some(fold.out_of_sample_from),
                ..*input
            },
            settings,
        )?;
        let out_of_sample = run(
            &BacktestInput {
                from: Some(fold.out_of_sample_from),
                to: Some(fold.out_of_sample_to),
                ..*input
            },
            settings,
        )?;
        reports.push(FoldReport {
            fold,
            in_sample: in_sample.metrics,
            out_of_sample: out_of_sample.metrics,
        });
    }
    let mean = |value: &dyn Fn(&FoldReport) -> f64| {
        reports.iter().map(value).sum::<f64>() / reports.len() as f64
    };
    let is_cagr = mean(&|fold| fold.in_sample.cagr_pct);
    let oos_cagr = mean(&|fold| fold.out_of_sample.cagr_pct);
    let is_sharpe = mean(&|fold| fold.in_sample.sharpe);
    let oos_sharpe = mean(&|fold| fold.out_of_sample.sharpe);
    Ok(WalkForwardReport {
        cagr_degradation_pct: is_cagr - oos_cagr,
        sharpe_degradation: is_sharpe - oos_sharpe,
        efficiency: if is_cagr > 0.0 {
            oos_cagr / is_cagr
        } else {
            0.0
        },
        folds: reports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_sample_parts_tile_the_end_of_the_range() {
        let times: Vec<i64> = (0..100).collect();
        let request = WalkForward {
            folds: 4,
            in_sample_ratio: 0.75,
            mode: FoldMode::Rolling,
        };
        let folds = folds(&times, &request);
        assert_eq!(folds.len(), 4);
        // L = 100 / (4 + 3) = 14, in-sample 42.
        assert_eq!(folds[0].in_sample_from, 0);
        assert_eq!(folds[0].out_of_sample_from, 42);
        for pair in folds.windows(2) {
            assert_eq!(pair[0].out_of_sample_to, pair[1].out_of_sample_from);
            assert_eq!(pair[1].in_sample_from - pair[0].in_sample_from, 14);
        }
        let anchored = super::folds(
            &times,
            &WalkForward {
                mode: FoldMode::Anchored,
                ..request
            },
        );
        assert!(anchored.iter().all(|fold| fold.in_sample_from == 0));
    }
}
