//! Candle timeframes: Hyperliquid's interval set, spelled `1m` … `1M`.
//!
//! Market memory stores and serves all of them; the strategy format names a subset
//! (`clones_strategy::STRATEGY_TIMEFRAMES`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A candle interval. Ordered shortest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Timeframe {
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Three minutes.
    #[serde(rename = "3m")]
    M3,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// Thirty minutes.
    #[serde(rename = "30m")]
    M30,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// Two hours.
    #[serde(rename = "2h")]
    H2,
    /// Four hours.
    #[serde(rename = "4h")]
    H4,
    /// Eight hours.
    #[serde(rename = "8h")]
    H8,
    /// Twelve hours.
    #[serde(rename = "12h")]
    H12,
    /// One day.
    #[serde(rename = "1d")]
    D1,
    /// Three days.
    #[serde(rename = "3d")]
    D3,
    /// One week.
    #[serde(rename = "1w")]
    W1,
    /// One calendar month.
    #[serde(rename = "1M")]
    Mo1,
}

impl Timeframe {
    /// Every timeframe, shortest first.
    pub const ALL: [Timeframe; 14] = [
        Timeframe::M1,
        Timeframe::M3,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H2,
        Timeframe::H4,
        Timeframe::H8,
        Timeframe::H12,
        Timeframe::D1,
        Timeframe::D3,
        Timeframe::W1,
        Timeframe::Mo1,
    ];

    /// The spelling in JSON, query strings, strategy graphs and database columns (`1m`, `4h`,
    /// `1M`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M3 => "3m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H2 => "2h",
            Timeframe::H4 => "4h",
            Timeframe::H8 => "8h",
            Timeframe::H12 => "12h",
            Timeframe::D1 => "1d",
            Timeframe::D3 => "3d",
            Timeframe::W1 => "1w",
            Timeframe::Mo1 => "1M",
        }
    }

    /// The fixed length of one bar in minutes; `None` for the calendar month.
    pub fn minutes(self) -> Option<i64> {
        Some(match self {
            Timeframe::M1 => 1,
            Timeframe::M3 => 3,
            Timeframe::M5 => 5,
            Timeframe::M15 => 15,
            Timeframe::M30 => 30,
            Timeframe::H1 => 60,
            Timeframe::H2 => 120,
            Timeframe::H4 => 240,
            Timeframe::H8 => 480,
            Timeframe::H12 => 720,
            Timeframe::D1 => 1_440,
            Timeframe::D3 => 4_320,
            Timeframe::W1 => 10_080,
            Timeframe::Mo1 => return None,
        })
    }

    /// The fixed length of one bar in seconds; `None` for the calendar month.
    pub fn seconds(self) -> Option<i64> {
        self.minutes().map(|minutes| minutes * 60)
    }

    /// The open time (Unix seconds) of the bar containing `at` (Unix seconds), bars aligned to
    /// the Unix epoch; `None` for the calendar month.
    pub fn bar_open(self, at: i64) -> Option<i64> {
        let step = self.seconds()?;
        Some(at - at.rem_euclid(step))
    }
}

impl FromStr for Timeframe {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Timeframe::ALL
            .into_iter()
            .find(|timeframe| timeframe.as_str() == text)
            .ok_or_else(|| ParseError::Timeframe(text.to_string()))
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
