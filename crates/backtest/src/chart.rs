//! The SVG chart of a backtest: equity above, drawdown below, a marker at every trade's entry
//! (green, long; red, short) and exit (grey), drawn with plotters' SVG backend. Only shapes are
//! drawn; the axes' numbers are in the report the chart goes with.

use plotters::prelude::*;
use rust_decimal::Decimal;

use crate::artifacts::drawdown_series;
use crate::metrics::to_f64;
use crate::report::{BacktestReport, Direction};

/// Width and height of the chart, pixels.
pub const CHART_SIZE: (u32, u32) = (1200, 700);

/// The chart of `report`, as an SVG document; an empty string when the curve is empty or the
/// drawing fails.
pub fn chart_svg(report: &BacktestReport, starting_cash: Decimal) -> String {
    let mut svg = String::new();
    if report.equity.is_empty() {
        return svg;
    }
    if draw(report, starting_cash, &mut svg).is_err() {
        return String::new();
    }
    svg
}

fn fail(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn draw(report: &BacktestReport, starting_cash: Decimal, svg: &mut String) -> Result<(), String> {
    let curve = &report.equity;
    let start = curve.first().map_or(0, |point| point.time);
    let end = curve.last().map_or(1, |point| point.time).max(start + 1);
    let equity: Vec<(i64, f64)> = curve
        .iter()
        .map(|point| (point.time, to_f64(point.equity)))
        .collect();
    let low = equity.iter().map(|(_, e)| *e).fold(f64::MAX, f64::min);
    let high = equity.iter().map(|(_, e)| *e).fold(f64::MIN, f64::max);
    let pad = ((high - low) * 0.05).max(1e-9);
    let drawdown = drawdown_series(curve, starting_cash);
    let deepest = drawdown
        .iter()
        .map(|point| point.drawdown_pct)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let root = SVGBackend::with_string(svg, CHART_SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(fail)?;
    let (top, bottom) = root.split_vertically(CHART_SIZE.1 * 7 / 10);
    let mut upper = ChartBuilder::on(&top)
        .margin(10)
        .build_cartesian_2d(start..end, (low - pad)..(high + pad))
        .map_err(fail)?;
    upper
        .draw_series(LineSeries::new(equity.iter().copied(), &BLUE))
        .map_err(fail)?;
    let at = |time: i64| {
        equity
            .binary_search_by_key(&time, |(t, _)| *t)
            .unwrap_or_else(|index| index.saturating_sub(1))
    };
    for trade in &report.trades {
        let colour = match trade.direction {
            Direction::Long => GREEN,
            Direction::Short => RED,
        };
        for (time, style) in [
            (trade.entry_time, colour.filled()),
            (trade.exit_time, BLACK.mix(0.4).filled()),
        ] {
            if let Some((t, e)) = equity.get(at(time)) {
                upper
                    .draw_series(std::iter::once(Circle::new((*t, *e), 3, style)))
                    .map_err(fail)?;
            }
        }
    }
    let mut lower = ChartBuilder::on(&bottom)
        .margin(10)
        .build_cartesian_2d(start..end, -deepest * 1.05..0.0)
        .map_err(fail)?;
    lower
        .draw_series(AreaSeries::new(
            drawdown
                .iter()
                .map(|point| (point.time, -point.drawdown_pct)),
            0.0,
            RED.mix(0.3),
        ))
        .map_err(fail)?;
    root.present().map_err(fail)?;
    Ok(())
}
