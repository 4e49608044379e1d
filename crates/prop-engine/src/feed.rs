//! The market-data input port: what prop-engine needs to know about markets, and nothing about
//! where it comes from.
//!
//! Market memory (the ingest context) is adapted to [`MarketFeed`] in the wiring layer;
//! prop-engine never opens a source client or reads ingest's tables. [`FixedMarketFeed`] is a
//! deterministic feed whose answers a test or benchmark sets explicitly, like a fixed clock.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_market::{InstrumentKey, InstrumentKind};
use rust_decimal::Decimal;
use serde::Serialize;

/// One price level of an order book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Level {
    /// The level's price.
    pub price: Decimal,
    /// The size available at that price.
    pub size: Decimal,
}

/// An order-book snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Book {
    /// When the book was observed.
    pub observed_at: DateTime<Utc>,
    /// Bids, best (highest) first.
    pub bids: Vec<Level>,
    /// Asks, best (lowest) first.
    pub asks: Vec<Level>,
}

/// The latest market state of an instrument at or before some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketQuote {
    /// The mid price.
    pub mid: Decimal,
    /// When the mid was observed.
    pub mid_at: DateTime<Utc>,
    /// The latest book, when the source has one.
    pub book: Option<Book>,
}

/// What the feed knows about an instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentInfo {
    /// The instrument key (`venue:kind:symbol`).
    pub key: String,
    /// Its kind.
    pub kind: InstrumentKind,
    /// Whether it trades now (delisted or resolved instruments are inactive).
    pub active: bool,
}

/// A funding rate that applied at one funding time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FundingRate {
    /// The funding time.
    pub at: DateTime<Utc>,
    /// The rate per funding interval (0.0001 = 1 bp); positive means longs pay shorts.
    pub rate: Decimal,
    /// The mark price the payment is computed on.
    pub mark: Decimal,
}

/// How a prediction-market outcome resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeResolution {
    /// When the market resolved.
    pub resolved_at: DateTime<Utc>,
    /// What one share pays: 1 for the winning outcome, 0 for a losing one.
    pub payout: Decimal,
}

/// A failure of the market feed itself (not "no data", which is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("market feed unavailable: {0}")]
pub struct FeedError(pub String);

/// The market data prop-engine reads.
#[async_trait]
pub trait MarketFeed: Send + Sync {
    /// The latest quote of `instrument` observed at or before `as_of`, if any.
    ///
    /// # Errors
    /// [`FeedError`] when the feed cannot answer.
    async fn quote(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<MarketQuote>, FeedError>;

    /// The instrument, if the feed knows it.
    ///
    /// # Errors
    /// [`FeedError`] when the feed cannot answer.
    async fn instrument(&self, key: &str) -> Result<Option<InstrumentInfo>, FeedError>;

    /// The latest funding rate of a perp at or before `as_of`, if any.
    ///
    /// # Errors
    /// [`FeedError`] when the feed cannot answer.
    async fn funding_rate(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, FeedError>;

    /// The resolution of an outcome instrument, once it resolved at or before `as_of`.
    ///
    /// # Errors
    /// [`FeedError`] when the feed cannot answer.
    async fn outcome_resolution(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<OutcomeResolution>, FeedError>;
}

/// A feed that knows nothing: every answer is `None`. For processes that only read accounts.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMarketFeed;

#[async_trait]
impl MarketFeed for NoMarketFeed {
    async fn quote(&self, _: &str, _: DateTime<Utc>) -> Result<Option<MarketQuote>, FeedError> {
        Ok(None)
    }
    async fn instrument(&self, _: &str) -> Result<Option<InstrumentInfo>, FeedError> {
        Ok(None)
    }
    async fn funding_rate(
        &self,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, FeedError> {
        Ok(None)
    }
    async fn outcome_resolution(
        &self,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<OutcomeResolution>, FeedError> {
        Ok(None)
    }
}

#[derive(Debug, Default)]
struct FixedState {
    instruments: HashMap<String, InstrumentInfo>,
    quotes: HashMap<String, MarketQuote>,
    funding: HashMap<String, FundingRate>,
    resolutions: HashMap<String, OutcomeResolution>,
    failing: bool,
}

/// A deterministic feed whose answers are set explicitly; clones share state.
///
/// A quote is returned only when it was observed at or before the `as_of` asked for, so a
/// test moves prices and clocks independently.
#[derive(Debug, Clone, Default)]
pub struct FixedMarketFeed {
    state: Arc<RwLock<FixedState>>,
}

impl FixedMarketFeed {
    /// An empty feed.
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, FixedState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, FixedState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lists an instrument (active or not). The kind is taken from the key; a malformed key is
    /// listed as a perp, so tests can exercise the engine's own validation.
    pub fn list(&self, key: &str, active: bool) {
        let kind = InstrumentKey::parse(key)
            .map(|parsed| parsed.kind())
            .unwrap_or(InstrumentKind::Perp);
        self.write().instruments.insert(
            key.to_string(),
            InstrumentInfo {
                key: key.to_string(),
                kind,
                active,
            },
        );
    }

    /// Sets the quote of `instrument` (listing it as active when it is not listed yet).
    pub fn set_quote(&self, instrument: &str, quote: MarketQuote) {
        if !self.read().instruments.contains_key(instrument) {
            self.list(instrument, true);
        }
        self.write().quotes.insert(instrument.to_string(), quote);
    }

    /// Sets a mid-only quote observed at `at`.
    pub fn set_mid(&self, instrument: &str, mid: Decimal, at: DateTime<Utc>) {
        self.set_quote(
            instrument,
            MarketQuote {
                mid,
                mid_at: at,
                book: None,
            },
        );
    }

    /// Sets the funding rate of `instrument`.
    pub fn set_funding(&self, instrument: &str, funding: FundingRate) {
        self.write().funding.insert(instrument.to_string(), funding);
    }

    /// Resolves an outcome instrument.
    pub fn resolve(&self, instrument: &str, resolution: OutcomeResolution) {
        self.write()
            .resolutions
            .insert(instrument.to_string(), resolution);
    }

    /// Makes every call fail (or succeed again), to exercise feed outages.
    pub fn set_failing(&self, failing: bool) {
        self.write().failing = failing;
    }

    fn check(&self) -> Result<(), FeedError> {
        if self.read().failing {
            return Err(FeedError("fixed feed set to fail".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl MarketFeed for FixedMarketFeed {
    async fn quote(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<MarketQuote>, FeedError> {
        self.check()?;
        Ok(self
            .read()
            .quotes
            .get(instrument)
            .filter(|quote| quote.mid_at <= as_of)
            .cloned())
    }

    async fn instrument(&self, key: &str) -> Result<Option<InstrumentInfo>, FeedError> {
        self.check()?;
        Ok(self.read().instruments.get(key).cloned())
    }

    async fn funding_rate(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, FeedError> {
        self.check()?;
        Ok(self
            .read()
            .funding
            .get(instrument)
            .filter(|funding| funding.at <= as_of)
            .copied())
    }

    async fn outcome_resolution(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<OutcomeResolution>, FeedError> {
        self.check()?;
        Ok(self
            .read()
            .resolutions
            .get(instrument)
            .filter(|resolution| resolution.resolved_at <= as_of)
            .copied())
    }
}
