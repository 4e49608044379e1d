//! A source's validated output for one channel fetch: everything it wants stored, written in
//! one transaction or not at all.

use chrono::{DateTime, Utc};
use clones_market::{InstrumentKey, Timeframe};
use rust_decimal::Decimal;

use crate::views::{BookSnapshot, Candle, DefiMetric, FundingRate};

/// An instrument as a source describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstrument {
    /// Its key.
    pub key: InstrumentKey,
    /// Base asset.
    pub base: Option<String>,
    /// Quote asset.
    pub quote: Option<String>,
    /// Whether it trades.
    pub active: bool,
    /// Price step.
    pub tick_size: Option<Decimal>,
    /// Size step.
    pub lot_size: Option<Decimal>,
    /// For outcome tokens: the market id and outcome name.
    pub market: Option<(String, String)>,
    /// Venue-specific facts.
    pub metadata: serde_json::Value,
}

impl NewInstrument {
    /// A bare instrument with nothing known but its key.
    pub fn bare(key: InstrumentKey) -> Self {
        Self {
            key,
            base: None,
            quote: None,
            active: true,
            tick_size: None,
            lot_size: None,
            market: None,
            metadata: serde_json::json!({}),
        }
    }
}

/// A prediction market as a source describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPredictionMarket {
    /// The venue's id.
    pub market_id: String,
    /// The venue.
    pub venue: String,
    /// On-chain condition id.
    pub condition_id: Option<String>,
    /// The question.
    pub question: String,
    /// URL slug.
    pub slug: Option<String>,
    /// End of trading.
    pub end_date: Option<DateTime<Utc>>,
    /// Accepting trades.
    pub active: bool,
    /// Trading closed.
    pub closed: bool,
    /// Winning outcome, once resolved.
    pub resolved_outcome: Option<String>,
    /// Venue-specific facts.
    pub metadata: serde_json::Value,
}

/// Everything one channel fetch wants stored.
///
/// `instruments` are authoritative descriptions (they update stored ones); `known_instruments`
/// only make sure an instrument exists before its observations reference it (an existing row is
/// left as it is).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Prediction markets (written first: outcome instruments reference them).
    pub markets: Vec<NewPredictionMarket>,
    /// Instruments to insert or refresh.
    pub instruments: Vec<NewInstrument>,
    /// Instruments to insert only if missing.
    pub known_instruments: Vec<NewInstrument>,
    /// Candles by instrument and timeframe.
    pub candles: Vec<(InstrumentKey, Timeframe, Candle)>,
    /// Mid prices.
    pub mids: Vec<(InstrumentKey, DateTime<Utc>, Decimal)>,
    /// Book snapshots.
    pub books: Vec<(InstrumentKey, BookSnapshot)>,
    /// Funding rates.
    pub funding: Vec<(InstrumentKey, FundingRate)>,
    /// Outcome token prices (0..1).
    pub outcome_prices: Vec<(InstrumentKey, DateTime<Utc>, Decimal)>,
    /// DeFi metrics.
    pub defi: Vec<DefiMetric>,
}

impl Batch {
    /// Rows the batch holds (before de-duplication against stored history).
    pub fn rows(&self) -> u64 {
        let count = self.markets.len()
            + self.instruments.len()
            + self.known_instruments.len()
            + self.candles.len()
            + self.mids.len()
            + self.books.len()
            + self.funding.len()
            + self.outcome_prices.len()
            + self.defi.len();
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// Adds another batch's contents.
    pub fn extend(&mut self, other: Batch) {
        self.markets.extend(other.markets);
        self.instruments.extend(other.instruments);
        self.known_instruments.extend(other.known_instruments);
        self.candles.extend(other.candles);
        self.mids.extend(other.mids);
        self.books.extend(other.books);
        self.funding.extend(other.funding);
        self.outcome_prices.extend(other.outcome_prices);
        self.defi.extend(other.defi);
    }

    /// Checks every value before anything is written.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), String> {
        for instrument in self.instruments.iter().chain(&self.known_instruments) {
            let outcome = instrument.key.is_outcome();
            if outcome != instrument.market.is_some() {
                return Err(format!(
                    "instrument {}: outcome tokens, and only they, name a market",
                    instrument.key
                ));
            }
            let bad_step = |step: &Option<Decimal>| step.is_some_and(|s| s <= Decimal::ZERO);
            if bad_step(&instrument.tick_size) || bad_step(&instrument.lot_size) {
                return Err(format!(
                    "instrument {}: tick and lot sizes must be positive",
                    instrument.key
                ));
            }
        }
        for market in &self.markets {
            if market.market_id.is_empty() || market.question.is_empty() {
                return Err("prediction market without id or question".into());
            }
            if market.resolved_outcome.is_some() && !market.closed {
                return Err(format!(
                    "market {} is resolved but not closed",
                    market.market_id
                ));
            }
        }
        for (key, _, candle) in &self.candles {
            if let Some(problem) = candle.problem() {
                return Err(format!("{key}: {problem}"));
            }
        }
        for (key, at, price) in &self.mids {
            if *price <= Decimal::ZERO {
                return Err(format!("{key}: non-positive mid at {at}"));
            }
        }
        for (key, book) in &self.books {
            if let Some(problem) = book.problem() {
                return Err(format!("{key}: {problem}"));
            }
        }
        for (key, at, price) in &self.outcome_prices {
            if *price < Decimal::ZERO || *price > Decimal::ONE {
                return Err(format!(
                    "{key}: outcome price {price} at {at} is outside 0..1"
                ));
            }
        }
        for metric in &self.defi {
            let subject_ok =
                metric.subject.starts_with("protocol:") || metric.subject.starts_with("chain:");
            if !subject_ok || metric.metric.is_empty() {
                return Err(format!(
                    "defi metric {}/{} is not named `protocol:`/`chain:`",
                    metric.subject, metric.metric
                ));
            }
        }
        Ok(())
    }
}
