//! The market data a plan is evaluated on: candles per (asset, timeframe) and prediction-market
//! outcome prices, as `Decimal`.
//!
//! This module only holds data; it fetches nothing. Callers (ai-decision, backtest) fill a
//! [`MarketWindow`] from their own stores.

use std::collections::BTreeMap;

use clones_market::Timeframe;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One OHLCV candle. `time` is the candle's open time in Unix seconds; the candle is complete
/// (and usable without look-ahead) at `time` plus the timeframe's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// Open time, Unix seconds.
    pub time: i64,
    /// Opening price.
    #[serde(with = "rust_decimal::serde::str")]
    pub open: Decimal,
    /// Highest price.
    #[serde(with = "rust_decimal::serde::str")]
    pub high: Decimal,
    /// Lowest price.
    #[serde(with = "rust_decimal::serde::str")]
    pub low: Decimal,
    /// Closing price.
    #[serde(with = "rust_decimal::serde::str")]
    pub close: Decimal,
    /// Traded volume.
    #[serde(with = "rust_decimal::serde::str")]
    pub volume: Decimal,
}

/// One observation of a prediction-market outcome price (0 to 1), known from `time` (Unix
/// seconds) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomePoint {
    /// When the price was observed, Unix seconds.
    pub time: i64,
    /// The outcome price.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
}

/// Identifies a candle series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CandleKey {
    /// The asset symbol, e.g. `BTC`.
    pub asset: String,
    /// The candle timeframe.
    pub timeframe: Timeframe,
}

impl CandleKey {
    /// The key of `asset` at `timeframe`.
    pub fn new(asset: &str, timeframe: Timeframe) -> Self {
        CandleKey {
            asset: asset.to_owned(),
            timeframe,
        }
    }

    /// How long after its open a candle of this series is complete, in seconds. A calendar
    /// month has no fixed length (and no graph names one): its candles are never complete.
    pub(crate) fn bar_seconds(&self) -> i64 {
        self.timeframe.seconds().unwrap_or(i64::MAX)
    }
}

/// Identifies a prediction-market outcome price series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutcomeKey {
    /// The market id.
    pub market: String,
    /// The outcome id within the market.
    pub outcome: String,
}

impl OutcomeKey {
    /// The key of `outcome` in `market`.
    pub fn new(market: &str, outcome: &str) -> Self {
        OutcomeKey {
            market: market.to_owned(),
            outcome: outcome.to_owned(),
        }
    }
}

/// Any series a plan can read. Serialized with a `type` tag: `{"type": "candles", "asset":
/// "BTC", "timeframe": "1h"}` or `{"type": "outcome", "market": "…", "outcome": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeriesKey {
    /// Candles of an asset at a timeframe.
    Candles(CandleKey),
    /// Prices of a prediction-market outcome.
    Outcome(OutcomeKey),
}

/// The market data an evaluation sees. Every series is ordered oldest first, and its last
/// element is "now". Series the plan does not need are ignored; series it needs but that are
/// missing count as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarketWindow {
    /// Candles per (asset, timeframe), oldest first.
    pub candles: BTreeMap<CandleKey, Vec<Bar>>,
    /// Outcome prices per (market, outcome), oldest first.
    pub outcomes: BTreeMap<OutcomeKey, Vec<OutcomePoint>>,
}

impl MarketWindow {
    /// An empty window.
    pub fn new() -> Self {
        MarketWindow::default()
    }

    /// Adds (or replaces) the candles of `asset` at `timeframe`.
    pub fn with_candles(mut self, asset: &str, timeframe: Timeframe, bars: Vec<Bar>) -> Self {
        self.candles.insert(CandleKey::new(asset, timeframe), bars);
        self
    }

    /// Adds (or replaces) the prices of `outcome` in `market`.
    pub fn with_outcome(mut self, market: &str, outcome: &str, points: Vec<OutcomePoint>) -> Self {
        self.outcomes
            .insert(OutcomeKey::new(market, outcome), points);
        self
    }

    /// How many items the window holds for `series`.
    pub fn len_of(&self, series: &SeriesKey) -> usize {
        match series {
            SeriesKey::Candles(key) => self.candles.get(key).map_or(0, Vec::len),
            SeriesKey::Outcome(key) => self.outcomes.get(key).map_or(0, Vec::len),
        }
    }

    /// The window as it was known at `time` (Unix seconds): only candles complete by then
    /// (`bar.time` plus the timeframe's length `<= time`) and outcome prices observed by then
    /// (`point.time <= time`).
    pub fn as_of(&self, time: i64) -> MarketWindow {
        MarketWindow {
            candles: self
                .candles
                .iter()
                .map(|(key, bars)| {
                    let seconds = key.bar_seconds();
                    let kept = bars
                        .iter()
                        .filter(|bar| bar.time.saturating_add(seconds) <= time)
                        .copied()
                        .collect();
                    (key.clone(), kept)
                })
                .collect(),
            outcomes: self
                .outcomes
                .iter()
                .map(|(key, points)| {
                    let kept = points
                        .iter()
                        .filter(|point| point.time <= time)
                        .copied()
                        .collect();
                    (key.clone(), kept)
                })
                .collect(),
        }
    }
}

impl Bar {
    /// A candle with all prices equal to `price` and the given volume; handy in tests and for
    /// series built from closes only.
    pub fn flat(time: i64, price: Decimal, volume: Decimal) -> Self {
        Bar {
            time,
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_keeps_only_complete_candles() {
        let bars: Vec<Bar> = (0..5)
            .map(|i| Bar::flat(i * 3_600, Decimal::from(i), Decimal::ONE))
            .collect();
        let window = MarketWindow::new()
            .with_candles("BTC", Timeframe::H1, bars)
            .with_outcome(
                "m",
                "yes",
                vec![OutcomePoint {
                    time: 7_200,
                    price: Decimal::new(5, 1),
                }],
            );
        let past = window.as_of(7_200);
        let key = SeriesKey::Candles(CandleKey::new("BTC", Timeframe::H1));
        assert_eq!(past.len_of(&key), 2);
        assert_eq!(
            past.len_of(&SeriesKey::Outcome(OutcomeKey::new("m", "yes"))),
            1
        );
        assert_eq!(window.as_of(7_199).len_of(&key), 1);
    }

    #[test]
    fn series_keys_serialize_with_a_type_tag() {
        let key = SeriesKey::Candles(CandleKey::new("BTC", Timeframe::H4));
        assert_eq!(
            serde_json::to_string(&key).unwrap(),
            r#"{"type":"candles","asset":"BTC","timeframe":"4h"}"#
        );
        let back: SeriesKey =
            serde_json::from_str(r#"{"type":"candles","asset":"BTC","timeframe":"4h"}"#).unwrap();
        assert_eq!(back, key);
    }
}
