//! Bars for the engine from market memory's candles or from an OHLCV file in the replay
//! source's format (CSV with a header, or a JSON array; see ingest's `sources::replay`). Parsing
//! only: reading the file is the caller's business.

use clones_ingest::Candle;
use clones_ingest::sources::replay::{parse_csv, parse_json};
use clones_market::Timeframe;
use clones_strategy::{Bar, CompiledPlan, SeriesKey};

use crate::engine::BacktestError;

/// The engine's bars of `candles`, in order.
pub fn bars_of(candles: &[Candle]) -> Vec<Bar> {
    candles
        .iter()
        .map(|candle| Bar {
            time: candle.open_time.timestamp(),
            open: candle.open,
            high: candle.high,
            low: candle.low,
            close: candle.close,
            volume: candle.volume,
        })
        .collect()
}

/// Bars from the text of an OHLCV file, sorted by open time.
///
/// # Errors
/// [`BacktestError::Data`] when the text is not valid OHLCV or two bars open at one time.
pub fn parse_bars(text: &str, json: bool) -> Result<Vec<Bar>, BacktestError> {
    let candles = if json {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| BacktestError::Data(error.to_string()))?;
        parse_json(&value)
    } else {
        parse_csv(text)
    }
    .map_err(|error| BacktestError::Data(error.to_string()))?;
    let mut bars = bars_of(&candles);
    bars.sort_by_key(|bar| bar.time);
    if bars.windows(2).any(|pair| pair[0].time == pair[1].time) {
        return Err(BacktestError::Data("two bars open at the same time".into()));
    }
    Ok(bars)
}

/// The one candle series a single-file backtest feeds: the plan must read candles of exactly
/// one asset at exactly one timeframe.
///
/// # Errors
/// [`BacktestError::Data`] naming what the plan reads otherwise.
pub fn single_series(plan: &CompiledPlan) -> Result<(String, Timeframe), BacktestError> {
    let mut series = plan
        .requirements()
        .iter()
        .map(|requirement| &requirement.series);
    match (series.next(), series.next()) {
        (Some(SeriesKey::Candles(key)), None) => Ok((key.asset.clone(), key.timeframe)),
        _ => Err(BacktestError::Data(
            "a file backtest needs a strategy reading one asset at one timeframe".into(),
        )),
    }
}
