//! What the ingest service reads and writes: market records. Instruments are named by
//! `clones_market`'s keys and kinds, candles by its timeframes.
//!
//! Prices, sizes and rates are [`Decimal`]; in JSON they are decimal strings.

use chrono::{DateTime, Utc};
use clones_market::InstrumentKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
}

/// The sort key of the prediction market list: end date (undated last), then market id.
pub type MarketSortKey = (Option<DateTime<Utc>>, String);

/// The sort key of the DeFi metric list: subject, metric, then time (newest first).
pub type DefiSortKey = (String, String, DateTime<Utc>);

/// Which DeFi metrics to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefiFilter {
    /// Only this subject (`protocol:<slug>` or `chain:<name>`).
    pub subject: Option<String>,
    /// Only this metric (e.g. `tvl`).
    pub metric: Option<String>,
    /// Earliest time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Time bound (exclusive).
    pub to: Option<DateTime<Utc>>,
}
