//! What the ingest service reads and writes: instrument keys, timeframes and market records.
//!
//! Prices, sizes and rates are [`Decimal`]; in JSON they are decimal strings.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::IngestError;

/// What an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstrumentKind {
    /// A perpetual future.
    Perp,
    /// A spot pair.
    Spot,
    /// A prediction-market outcome token (priced 0..1, pays 1 if it wins).
    Outcome,
}

impl InstrumentKind {
    /// The key and column spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Perp => "perp",
            InstrumentKind::Spot => "spot",
            InstrumentKind::Outcome => "outcome",
        }
    }
}

impl FromStr for InstrumentKind {
    type Err = IngestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "perp" => Ok(InstrumentKind::Perp),
            "spot" => Ok(InstrumentKind::Spot),
            "outcome" => Ok(InstrumentKind::Outcome),
            other => Err(IngestError::InvalidInput(format!(
                "unknown instrument kind `{other}` (perp, spot or outcome)"
            ))),
        }
    }
}

/// The text key `venue:kind:symbol` every context uses to name an instrument, e.g.
/// `hyperliquid:perp:BTC`, `hyperliquid:spot:PURR/USDC`, `polymarket:outcome:<token id>`,
/// `replay:perp:BTC`. The symbol is everything after the second colon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstrumentKey {
    /// Lowercase venue name.
    pub venue: String,
    /// What it is.
    pub kind: InstrumentKind,
    /// The venue's symbol.
    pub symbol: String,
}

impl InstrumentKey {
    /// A key from its parts.
    pub fn new(venue: &str, kind: InstrumentKind, symbol: &str) -> Self {
        Self {
            venue: venue.to_string(),
            kind,
            symbol: symbol.to_string(),
        }
    }

    /// Parses `venue:kind:symbol`.
    ///
    /// # Errors
    /// [`IngestError::InvalidInput`] when a part is missing or malformed.
    pub fn parse(text: &str) -> Result<Self, IngestError> {
        let invalid = || {
            IngestError::InvalidInput(format!(
                "instrument key `{text}` is not `venue:kind:symbol`"
            ))
        };
        let mut parts = text.splitn(3, ':');
        let venue = parts.next().ok_or_else(invalid)?;
        let kind = parts.next().ok_or_else(invalid)?;
        let symbol = parts.next().ok_or_else(invalid)?;
        let venue_ok = !venue.is_empty()
            && venue.len() <= 32
            && venue.starts_with(|c: char| c.is_ascii_lowercase())
            && venue
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        let symbol_ok = !symbol.is_empty()
            && symbol.len() <= 160
            && !symbol.chars().any(|c| c.is_whitespace() || c.is_control());
        if !venue_ok || !symbol_ok {
            return Err(invalid());
        }
        Ok(Self {
            venue: venue.to_string(),
            kind: kind.parse().map_err(|_| invalid())?,
            symbol: symbol.to_string(),
        })
    }
}

impl fmt::Display for InstrumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.venue, self.kind.as_str(), self.symbol)
    }
}

/// A candle interval (Hyperliquid's set).
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

    /// The interval's spelling (`1m`, `4h`, `1M`, …).
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
            Timeframe::D1 => 1440,
            Timeframe::D3 => 4320,
            Timeframe::W1 => 10080,
            Timeframe::Mo1 => return None,
        })
    }

    /// The fixed length of one bar; `None` for the calendar month.
    pub fn duration(self) -> Option<Duration> {
        self.minutes().map(Duration::minutes)
    }

    /// The start of the bar containing `at` (bars aligned to the Unix epoch).
    pub fn bar_start(self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let step = self.minutes()? * 60;
        let secs = at.timestamp();
        Utc.timestamp_opt(secs - secs.rem_euclid(step), 0).single()
    }
}

impl FromStr for Timeframe {
    type Err = IngestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Timeframe::ALL
            .into_iter()
            .find(|timeframe| timeframe.as_str() == text)
            .ok_or_else(|| {
                IngestError::InvalidInput(format!(
                    "unknown timeframe `{text}` (1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d 3d 1w 1M)"
                ))
            })
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a prediction market is still trading, closed, or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// Trading.
    Open,
    /// No longer trading, outcome not yet known.
    Closed,
    /// The winning outcome is known.
    Resolved,
}

/// The prediction-market side of an outcome instrument.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeInfo {
    /// The venue's market id (Polymarket Gamma id).
    pub market_id: String,
    /// The outcome this token pays on (`Yes`, `No`, a candidate's name, …).
    pub outcome: String,
    /// The market's question.
    pub question: String,
    /// Trading, closed or resolved.
    pub resolution: Resolution,
    /// Once resolved: 1 if this outcome won, 0 otherwise.
    #[schema(value_type = Option<String>)]
    pub resolved_payout: Option<Decimal>,
}

/// An instrument in market memory.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    /// `venue:kind:symbol`.
    pub key: String,
    /// The venue.
    pub venue: String,
    /// Perp, spot or outcome.
    pub kind: InstrumentKind,
    /// The venue's symbol.
    pub symbol: String,
    /// Base asset, when known.
    pub base: Option<String>,
    /// Quote asset, when known.
    pub quote: Option<String>,
    /// Whether it trades (delisted perps and closed markets are inactive).
    pub active: bool,
    /// Smallest price step, when known.
    #[schema(value_type = Option<String>)]
    pub tick_size: Option<Decimal>,
    /// Smallest size step, when known.
    #[schema(value_type = Option<String>)]
    pub lot_size: Option<Decimal>,
    /// For outcome tokens: their market and resolution.
    pub outcome: Option<OutcomeInfo>,
    /// Venue-specific facts (max leverage, size decimals, …).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Last time a source refreshed it.
    pub updated_at: DateTime<Utc>,
}

/// One OHLCV bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Candle {
    /// Start of the bar.
    pub open_time: DateTime<Utc>,
    /// First price.
    #[schema(value_type = String)]
    pub open: Decimal,
    /// Highest price.
    #[schema(value_type = String)]
    pub high: Decimal,
    /// Lowest price.
    #[schema(value_type = String)]
    pub low: Decimal,
    /// Last price.
    #[schema(value_type = String)]
    pub close: Decimal,
    /// Base volume.
    #[schema(value_type = String)]
    pub volume: Decimal,
    /// Number of trades, when the source reports it.
    pub trades: Option<i64>,
}

impl Candle {
    /// Why the bar is inconsistent, if it is.
    pub fn problem(&self) -> Option<String> {
        let Candle {
            open,
            high,
            low,
            close,
            volume,
            ..
        } = self;
        if *open <= Decimal::ZERO || *close <= Decimal::ZERO || *low <= Decimal::ZERO {
            return Some(format!(
                "bar at {} has a non-positive price",
                self.open_time
            ));
        }
        if volume.is_sign_negative() {
            return Some(format!("bar at {} has a negative volume", self.open_time));
        }
        if high < low || high < open || high < close || low > open || low > close {
            return Some(format!(
                "bar at {} has high/low inconsistent with open/close",
                self.open_time
            ));
        }
        None
    }
}

/// One price level: price and size.
pub type Level = (Decimal, Decimal);

/// An order-book snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookSnapshot {
    /// When the venue (or generator) took it.
    pub observed_at: DateTime<Utc>,
    /// `[price, size]`, best (highest) first.
    #[schema(value_type = Vec<Vec<String>>)]
    pub bids: Vec<Level>,
    /// `[price, size]`, best (lowest) first.
    #[schema(value_type = Vec<Vec<String>>)]
    pub asks: Vec<Level>,
}

impl BookSnapshot {
    /// Why the book is inconsistent, if it is: non-positive levels, unsorted sides.
    pub fn problem(&self) -> Option<String> {
        let bad_level = |(price, size): &Level| *price <= Decimal::ZERO || size.is_sign_negative();
        if self.bids.iter().chain(&self.asks).any(bad_level) {
            return Some("book has a non-positive price or negative size".into());
        }
        if self.bids.windows(2).any(|pair| pair[0].0 <= pair[1].0) {
            return Some("book bids are not strictly descending".into());
        }
        if self.asks.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return Some("book asks are not strictly ascending".into());
        }
        None
    }
}

/// A funding-rate observation of a perp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundingRate {
    /// When the rate applied.
    pub time: DateTime<Utc>,
    /// The hourly (Hyperliquid) funding rate.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// The premium component, when reported.
    #[schema(value_type = Option<String>)]
    pub premium: Option<Decimal>,
}

/// A price at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricePoint {
    /// The price.
    #[schema(value_type = String)]
    pub price: Decimal,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
}

/// A prediction market and its outcome tokens.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PredictionMarket {
    /// The venue's market id.
    pub market_id: String,
    /// The venue (`polymarket`).
    pub venue: String,
    /// The on-chain condition id, when known.
    pub condition_id: Option<String>,
    /// The question.
    pub question: String,
    /// URL slug.
    pub slug: Option<String>,
    /// When trading ends.
    pub end_date: Option<DateTime<Utc>>,
    /// Whether it accepts trading.
    pub active: bool,
    /// Whether trading closed.
    pub closed: bool,
    /// The winning outcome, once resolved.
    pub resolved_outcome: Option<String>,
    /// The outcomes and their instrument keys.
    pub outcomes: Vec<MarketOutcome>,
    /// Last refresh.
    pub updated_at: DateTime<Utc>,
}

/// One outcome of a prediction market.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketOutcome {
    /// The outcome's name.
    pub outcome: String,
    /// Its instrument key (`polymarket:outcome:<token id>`).
    pub instrument_key: String,
}

/// A DeFi metric observation, e.g. a protocol's TVL on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefiMetric {
    /// `protocol:<slug>` or `chain:<name>`.
    pub subject: String,
    /// `tvl`, …
    pub metric: String,
    /// When it applied.
    pub time: DateTime<Utc>,
    /// The value (USD for TVL).
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// How an ingestion run ended. Named `IngestionRunStatus` in the OpenAPI document, apart from
/// decision runs' status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = IngestionRunStatus)]
pub enum RunStatus {
    /// The whole batch was stored.
    Succeeded,
    /// Nothing was stored.
    Failed,
}

impl RunStatus {
    /// The column spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

/// One fetch of one source channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestionRun {
    /// Run id.
    pub id: Uuid,
    /// `hyperliquid`, `polymarket`, `defillama`, `replay`.
    pub source: String,
    /// The source's channel (`allMids`, `candles`, `gamma-markets`, …).
    pub channel: String,
    /// When the fetch started.
    pub started_at: DateTime<Utc>,
    /// When the run was recorded.
    pub finished_at: DateTime<Utc>,
    /// Succeeded or failed.
    pub status: RunStatus,
    /// Rows inserted or revised (repeated observations count 0; 0 when failed).
    pub rows: i64,
    /// Fetch and store time.
    pub latency_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
}

/// The health of one source channel, from its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceHealth {
    /// The source.
    pub source: String,
    /// The channel.
    pub channel: String,
    /// Start of the latest run.
    pub last_run_at: DateTime<Utc>,
    /// Status of the latest run.
    pub last_status: RunStatus,
    /// End of the latest successful run.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Failed runs since the latest success.
    pub consecutive_failures: i64,
    /// Error of the latest failed run.
    pub last_error: Option<String>,
    /// Rows written by the latest run.
    pub last_rows: i64,
}

/// Which instruments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstrumentFilter {
    /// Only this venue.
    pub venue: Option<String>,
    /// Only this kind.
    pub kind: Option<InstrumentKind>,
    /// Only active ones.
    pub active_only: bool,
    /// Most rows (capped at 1000).
    pub limit: u32,
}
