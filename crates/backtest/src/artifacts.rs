//! The files a backtest leaves for its author, rendered from a report: the trade list as CSV,
//! and the equity and drawdown series. Rendering only; storing and serving them is the job
//! runner's business.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::report::{Direction, EquityPoint, FillReason, Trade};

/// The CSV header of [`trades_csv`].
pub const TRADES_CSV_HEADER: &str = "asset,direction,entry_time,exit_time,entry_price,exit_price,size,pnl,fees,return_pct,exit_reason";

fn direction(direction: Direction) -> &'static str {
    match direction {
        Direction::Long => "long",
        Direction::Short => "short",
    }
}

fn reason(reason: FillReason) -> &'static str {
    match reason {
        FillReason::Signal => "signal",
        FillReason::StopLoss => "stop_loss",
        FillReason::TakeProfit => "take_profit",
        FillReason::End => "end",
    }
}

/// The trade list as CSV: a header, then one line per trade with times as RFC 3339 and amounts
/// as exact decimals. Asset names are quoted when they hold a comma, a quote or a line break.
pub fn trades_csv(trades: &[Trade]) -> String {
    let mut out = String::with_capacity(64 + trades.len() * 128);
    out.push_str(TRADES_CSV_HEADER);
    out.push('\n');
    let time = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    for trade in trades {
        let asset = if trade.asset.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", trade.asset.replace('"', "\"\""))
        } else {
            trade.asset.clone()
        };
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{asset},{},{},{},{},{},{},{},{},{},{}",
            direction(trade.direction),
            time(trade.entry_time),
            time(trade.exit_time),
            trade.entry_price,
            trade.exit_price,
            trade.size,
            trade.pnl,
            trade.fees,
            trade.return_pct,
            reason(trade.exit_reason),
        );
    }
    out
}

/// One point of the drawdown series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrawdownPoint {
    /// The close time, Unix seconds.
    pub time: i64,
    /// How far equity is below its running peak, percent (0 at a new peak).
    pub drawdown_pct: f64,
}

/// The drawdown series of an equity curve, against the running peak that starts at
/// `starting_cash`.
pub fn drawdown_series(curve: &[EquityPoint], starting_cash: Decimal) -> Vec<DrawdownPoint> {
    let mut peak = starting_cash;
    curve
        .iter()
        .map(|point| {
            peak = peak.max(point.equity);
            let drawdown_pct = if peak > Decimal::ZERO {
                let below = (peak - point.equity) / peak * Decimal::ONE_HUNDRED;
                crate::metrics::to_f64(below)
            } else {
                0.0
            };
            DrawdownPoint {
                time: point.time,
                drawdown_pct,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn trades_render_as_csv_with_exact_amounts() {
        let trade = Trade {
            asset: "A,B".into(),
            direction: Direction::Long,
            entry_time: 0,
            exit_time: 86_400,
            entry_price: d("62"),
            exit_price: d("80.5"),
            size: d("1.25"),
            pnl: d("22.3"),
            fees: d("0.2"),
            return_pct: 29.83,
            exit_reason: FillReason::StopLoss,
        };
        let csv = trades_csv(&[trade]);
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(TRADES_CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some(
                "\"A,B\",long,1970-01-01T00:00:00Z,1970-01-02T00:00:00Z,62,80.5,1.25,22.3,0.2,29.83,stop_loss"
            )
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        let point = |time, equity: &str| EquityPoint {
            time,
            equity: d(equity),
            cash: d(equity),
            exposed: false,
        };
        let series = drawdown_series(
            &[
                point(1, "100"),
                point(2, "120"),
                point(3, "90"),
                point(4, "130"),
            ],
            d("100"),
        );
        let depths: Vec<f64> = series.iter().map(|p| p.drawdown_pct).collect();
        assert_eq!(depths, vec![0.0, 0.0, 25.0, 0.0]);
    }
}
