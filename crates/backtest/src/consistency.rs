//! Backtest versus paper: how far a backtest of a paper account's window agrees with what the
//! account actually did. Orders are compared by (asset, side, bar); equity curves by the
//! largest relative gap and by their correlation at the paper account's snapshots.
//!
//! Pure: it compares what it is given and reads nothing.

use std::collections::BTreeSet;

use clones_market::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::metrics::to_f64;
use crate::report::BacktestReport;

/// One fill of the paper account, reduced to what is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperFill {
    /// The strategy's asset name (the backtest's name for the instrument).
    pub asset: String,
    /// Buy or sell.
    pub side: Side,
    /// When it filled (Unix seconds).
    pub time: i64,
}

/// One equity snapshot of the paper account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaperPoint {
    /// When it was taken (Unix seconds).
    pub time: i64,
    /// Equity then.
    pub equity: Decimal,
}

/// An order only one side made.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct OneSidedOrder {
    /// The strategy's asset name.
    pub asset: String,
    /// Buy or sell.
    pub side: Side,
    /// Open time of the bar it filled in (Unix seconds).
    pub bar_time: i64,
}

/// The most one-sided orders listed per side; the counts are always complete.
pub const MAX_LISTED: usize = 100;

/// How a backtest and a paper account agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Consistency {
    /// Orders both made: same asset, side and bar.
    pub matched_orders: u32,
    /// Orders only the backtest made.
    pub backtest_only_orders: u32,
    /// Orders only the paper account made.
    pub paper_only_orders: u32,
    /// The first [`MAX_LISTED`] backtest-only orders.
    pub backtest_only: Vec<OneSidedOrder>,
    /// The first [`MAX_LISTED`] paper-only orders.
    pub paper_only: Vec<OneSidedOrder>,
    /// Paper snapshots compared with the backtest's equity at the same moment.
    pub compared_points: u32,
    /// Largest |paper − backtest| / paper equity over the compared points, in percent.
    pub max_equity_diff_pct: f64,
    /// Pearson correlation of the two equity series at the compared points; `None` with fewer
    /// than two points or a constant series.
    pub equity_correlation: Option<f64>,
    /// One number in [0, 1]: the share of orders matched (1 when neither side traded) times
    /// (1 − the largest equity gap as a fraction, floored at 0).
    pub score: f64,
}

/// Compares `report` (a backtest over bars of `bar_secs` seconds) with the paper account's
/// fills and equity snapshots over the same window.
pub fn compare(
    report: &BacktestReport,
    bar_secs: i64,
    paper_fills: &[PaperFill],
    paper_equity: &[PaperPoint],
) -> Consistency {
    let bar = |time: i64| {
        if bar_secs > 0 {
            time.div_euclid(bar_secs) * bar_secs
        } else {
            time
        }
    };
    let backtest: BTreeSet<OneSidedOrder> = report
        .fills
        .iter()
        .map(|fill| OneSidedOrder {
            asset: fill.asset.clone(),
            side: fill.side,
            bar_time: bar(fill.time),
        })
        .collect();
    let paper: BTreeSet<OneSidedOrder> = paper_fills
        .iter()
        .map(|fill| OneSidedOrder {
            asset: fill.asset.clone(),
            side: fill.side,
            bar_time: bar(fill.time),
        })
        .collect();
    let matched = backtest.intersection(&paper).count();
    let backtest_only: Vec<OneSidedOrder> = backtest.difference(&paper).cloned().collect();
    let paper_only: Vec<OneSidedOrder> = paper.difference(&backtest).cloned().collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);

    // The backtest's equity at each paper snapshot: its last point at or before it.
    let mut pairs = Vec::new();
    let mut index = 0;
    for point in paper_equity {
        while report
            .equity
            .get(index + 1)
            .is_some_and(|next| next.time <= point.time)
        {
            index += 1;
        }
        let Some(ours) = report
            .equity
            .get(index)
            .filter(|ours| ours.time <= point.time)
        else {
            continue;
        };
        pairs.push((to_f64(point.equity), to_f64(ours.equity)));
    }
    let max_equity_diff_pct = pairs
        .iter()
        .filter(|(paper, _)| *paper != 0.0)
        .map(|(paper, ours)| ((paper - ours) / paper).abs() * 100.0)
        .fold(0.0, f64::max);
    let one_sided = backtest_only.len() + paper_only.len();
    let order_agreement = if matched + one_sided == 0 {
        1.0
    } else {
        matched as f64 / (matched + one_sided) as f64
    };
    let equity_agreement = (1.0 - max_equity_diff_pct / 100.0).clamp(0.0, 1.0);
    Consistency {
        matched_orders: count(matched),
        backtest_only_orders: count(backtest_only.len()),
        paper_only_orders: count(paper_only.len()),
        backtest_only: backtest_only.into_iter().take(MAX_LISTED).collect(),
        paper_only: paper_only.into_iter().take(MAX_LISTED).collect(),
        compared_points: count(pairs.len()),
        max_equity_diff_pct,
        equity_correlation: correlation(&pairs),
        score: order_agreement * equity_agreement,
    }
}

/// Pearson correlation, `None` when undefined.
fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let (mut cov, mut var_x, mut var_y) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        cov += (x - mean_x) * (y - mean_y);
        var_x += (x - mean_x).powi(2);
        var_y += (y - mean_y).powi(2);
    }
    let denominator = (var_x * var_y).sqrt();
    (denominator > 0.0).then(|| (cov / denominator).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{EquityPoint, FillReason, FillRecord};

    fn fill(asset: &str, side: Side, time: i64) -> FillRecord {
        FillRecord {
            time,
            asset: asset.into(),
            side,
            price: Decimal::ONE,
            size: Decimal::ONE,
            fee: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
            reason: FillReason::Signal,
        }
    }

    fn point(time: i64, equity: i64) -> EquityPoint {
        EquityPoint {
            time,
            equity: Decimal::from(equity),
            cash: Decimal::from(equity),
            exposed: false,
        }
    }

    fn report(fills: Vec<FillRecord>, equity: Vec<EquityPoint>) -> BacktestReport {
        BacktestReport {
            metrics: crate::Metrics::default(),
            trades: Vec::new(),
            fills,
            equity,
            result_hash: String::new(),
        }
    }

    #[test]
    fn orders_match_by_asset_side_and_bar() {
        let ours = report(
            vec![
                fill("BTC", Side::Buy, 3600),
                fill("BTC", Side::Buy, 3600),
                fill("BTC", Side::Sell, 7200),
            ],
            vec![point(3600, 100), point(7200, 110)],
        );
        let paper = [
            PaperFill {
                asset: "BTC".into(),
                side: Side::Buy,
                time: 3605,
            },
            PaperFill {
                asset: "BTC".into(),
                side: Side::Sell,
                time: 10_800,
            },
        ];
        let equity = [
            PaperPoint {
                time: 3700,
                equity: Decimal::from(100),
            },
            PaperPoint {
                time: 7300,
                equity: Decimal::from(100),
            },
        ];
        let result = compare(&ours, 3600, &paper, &equity);
        assert_eq!(result.matched_orders, 1);
        assert_eq!(result.backtest_only_orders, 1);
        assert_eq!(result.paper_only_orders, 1);
        assert_eq!(result.backtest_only[0].bar_time, 7200);
        assert_eq!(result.paper_only[0].bar_time, 10_800);
        assert_eq!(result.compared_points, 2);
        assert!((result.max_equity_diff_pct - 10.0).abs() < 1e-9);
        assert_eq!(result.equity_correlation, None);
        assert!((result.score - (1.0 / 3.0) * 0.9).abs() < 1e-9);
    }

    #[test]
    fn identical_histories_score_one() {
        let ours = report(
            vec![fill("ETH", Side::Sell, 60)],
            vec![point(60, 100), point(120, 90), point(180, 95)],
        );
        let paper = [PaperFill {
            asset: "ETH".into(),
            side: Side::Sell,
            time: 61,
        }];
        let equity: Vec<PaperPoint> = [(60, 100), (120, 90), (180, 95)]
            .into_iter()
            .map(|(time, equity)| PaperPoint {
                time,
                equity: Decimal::from(equity),
            })
            .collect();
        let result = compare(&ours, 60, &paper, &equity);
        assert_eq!(result.matched_orders, 1);
        assert_eq!(result.max_equity_diff_pct, 0.0);
        assert!((result.equity_correlation.unwrap_or_default() - 1.0).abs() < 1e-12);
        assert!((result.score - 1.0).abs() < 1e-12);
    }
}
