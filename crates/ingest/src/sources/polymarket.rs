//! Polymarket: market descriptions from Gamma, order books and midpoints from the CLOB.
//!
//! Channels, in order: `gamma-markets` (`GET {gamma}/markets`: each tracked market, its outcome
//! tokens as instruments `polymarket:outcome:<clob token id>`, Gamma's outcome prices, and the
//! resolution once closed), `clob-books` (`GET {clob}/book?token_id=`) and `clob-midpoints`
//! (`GET {clob}/midpoint?token_id=`) for the tokens of the last stored Gamma fetch.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_market::InstrumentKey;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use url::Url;

use crate::error::{SourceError, malformed};
use crate::http::{HttpClient, endpoint};
use crate::parse::{
    array, decimal, decimal_field, field, millis, object, opt_bool, opt_decimal_field, opt_string,
    rfc3339, string, string_list,
};
use crate::{Batch, BookSnapshot, Level, NewInstrument, NewPredictionMarket, Source};

/// The venue name in keys.
pub const VENUE: &str = "polymarket";

/// What to fetch from Polymarket.
#[derive(Debug, Clone)]
pub struct PolymarketConfig {
    /// Gamma API base, e.g. `https://gamma-api.polymarket.com`.
    pub gamma_url: Url,
    /// CLOB API base, e.g. `https://clob.polymarket.com`.
    pub clob_url: Url,
    /// Market slugs to track; empty tracks the first `market_limit` open markets by volume.
    pub slugs: Vec<String>,
    /// How many markets to track when no slugs are given.
    pub market_limit: u32,
}

/// The Polymarket source.
pub struct PolymarketSource {
    config: PolymarketConfig,
    http: HttpClient,
    /// Tokens of the last fetched Gamma batch, and those of the last stored one.
    fetched_tokens: Mutex<Vec<String>>,
    tokens: Mutex<Vec<String>>,
}

/// The key of a CLOB token; a token the key grammar refuses is a malformed answer.
fn outcome_key(token: &str) -> Result<InstrumentKey, SourceError> {
    InstrumentKey::outcome(VENUE, token).map_err(|error| malformed(format!("token: {error}")))
}

impl PolymarketSource {
    /// A source over `http`.
    pub fn new(config: PolymarketConfig, http: HttpClient) -> Self {
        Self {
            config,
            http,
            fetched_tokens: Mutex::new(Vec::new()),
            tokens: Mutex::new(Vec::new()),
        }
    }

    fn tokens(&self) -> Vec<String> {
        self.tokens.lock().map(|t| t.clone()).unwrap_or_default()
    }

    async fn gamma(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut url = endpoint(&self.config.gamma_url, "markets")?;
        {
            let mut query = url.query_pairs_mut();
            if self.config.slugs.is_empty() {
                query
                    .append_pair("limit", &self.config.market_limit.to_string())
                    .append_pair("closed", "false")
                    .append_pair("order", "volumeNum")
                    .append_pair("ascending", "false");
            } else {
                for slug in &self.config.slugs {
                    query.append_pair("slug", slug);
                }
            }
        }
        let value = self.http.get_json(&url).await?;
        let mut batch = Batch::default();
        let mut tokens = Vec::new();
        for market in array(&value, "markets")? {
            let market = object(market, "market")?;
            let id = string(market, "id", "market")?;
            let what = format!("market {id}");
            let question = string(market, "question", &what)?;
            let outcomes = string_list(market, "outcomes", &what)?;
            let token_ids = string_list(market, "clobTokenIds", &what)?;
            let prices = string_list(market, "outcomePrices", &what)?;
            if outcomes.is_empty()
                || outcomes.len() != token_ids.len()
                || outcomes.len() != prices.len()
            {
                return Err(malformed(format!(
                    "{what}: outcomes, clobTokenIds and outcomePrices differ in length"
                )));
            }
            let prices = prices
                .iter()
                .map(|p| decimal(&Value::String(p.clone()), &format!("{what}.outcomePrices")))
                .collect::<Result<Vec<Decimal>, _>>()?;
            if prices
                .iter()
                .any(|p| *p < Decimal::ZERO || *p > Decimal::ONE)
            {
                return Err(malformed(format!("{what}: outcome price outside 0..1")));
            }
            let closed = opt_bool(market, "closed", &what)?.unwrap_or(false);
            let active = opt_bool(market, "active", &what)?.unwrap_or(!closed);
            let end_date = opt_string(market, "endDate", &what)?
                .map(|text| rfc3339(&text, &format!("{what}.endDate")))
                .transpose()?;
            // A closed market whose outcome prices settled to exactly one winner is resolved.
            let winners: Vec<&String> = outcomes
                .iter()
                .zip(&prices)
                .filter(|(_, price)| **price == Decimal::ONE)
                .map(|(outcome, _)| outcome)
                .collect();
            let resolved_outcome = match (closed, winners.as_slice()) {
                (true, [winner]) => Some((*winner).clone()),
                _ => None,
            };
            let tick = opt_decimal_field(market, "orderPriceMinTickSize", &what)?
                .filter(|tick| *tick > Decimal::ZERO);
            let min_size = opt_decimal_field(market, "orderMinSize", &what)?
                .filter(|size| *size > Decimal::ZERO);
            batch.markets.push(NewPredictionMarket {
                market_id: id.clone(),
                venue: VENUE.into(),
                condition_id: opt_string(market, "conditionId", &what)?,
                question,
                slug: opt_string(market, "slug", &what)?,
                end_date,
                active: active && !closed,
                closed,
                resolved_outcome,
                metadata: json!({
                    "negRisk": opt_bool(market, "negRisk", &what)?.unwrap_or(false),
                    "enableOrderBook": opt_bool(market, "enableOrderBook", &what)?.unwrap_or(false),
                    "volumeNum": opt_decimal_field(market, "volumeNum", &what)?.map(|v| v.to_string()),
                    "liquidityNum": opt_decimal_field(market, "liquidityNum", &what)?.map(|v| v.to_string()),
                }),
            });
            for ((outcome, token), price) in outcomes.iter().zip(&token_ids).zip(&prices) {
                if token.is_empty() {
                    return Err(malformed(format!("{what}: empty clob token id")));
                }
                let mut instrument = NewInstrument::bare(outcome_key(token)?);
                instrument.active = active && !closed;
                instrument.tick_size = tick;
                instrument.lot_size = min_size;
                instrument.quote = Some("USDC".into());
                instrument.market = Some((id.clone(), outcome.clone()));
                instrument.metadata = json!({ "question": instrument_question(market) });
                batch.instruments.push(instrument);
                batch
                    .outcome_prices
                    .push((outcome_key(token)?, now, *price));
                if !closed {
                    tokens.push(token.clone());
                }
            }
        }
        if let Ok(mut fetched) = self.fetched_tokens.lock() {
            *fetched = tokens;
        }
        Ok(batch)
    }

    async fn books(&self) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        for token in self.tokens() {
            let mut url = endpoint(&self.config.clob_url, "book")?;
            url.query_pairs_mut().append_pair("token_id", &token);
            let value = self.http.get_json(&url).await?;
            let book = object(&value, "book")?;
            let asset = string(book, "asset_id", "book")?;
            if asset != token {
                return Err(malformed(format!("book for {token} returned {asset}")));
            }
            let observed_at = millis(field(book, "timestamp", "book")?, "book.timestamp")?;
            let side = |name: &str| -> Result<Vec<Level>, SourceError> {
                array(field(book, name, "book")?, name)?
                    .iter()
                    .map(|level| {
                        let level = object(level, name)?;
                        Ok((
                            decimal_field(level, "price", name)?,
                            decimal_field(level, "size", name)?,
                        ))
                    })
                    .collect()
            };
            // The CLOB lists bids ascending and asks descending (best last); market memory
            // keeps best first.
            let mut bids = side("bids")?;
            let mut asks = side("asks")?;
            bids.sort_by_key(|level| std::cmp::Reverse(level.0));
            asks.sort_by_key(|level| level.0);
            batch.books.push((
                outcome_key(&token)?,
                BookSnapshot {
                    observed_at,
                    bids,
                    asks,
                },
            ));
        }
        Ok(batch)
    }

    async fn midpoints(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        for token in self.tokens() {
            let mut url = endpoint(&self.config.clob_url, "midpoint")?;
            url.query_pairs_mut().append_pair("token_id", &token);
            let value = self.http.get_json(&url).await?;
            let mid = decimal_field(object(&value, "midpoint")?, "mid", "midpoint")?;
            if mid < Decimal::ZERO || mid > Decimal::ONE {
                return Err(malformed(format!(
                    "midpoint {mid} for {token} is outside 0..1"
                )));
            }
            batch.outcome_prices.push((outcome_key(&token)?, now, mid));
        }
        Ok(batch)
    }
}

fn instrument_question(market: &serde_json::Map<String, Value>) -> Value {
    market.get("question").cloned().unwrap_or(Value::Null)
}

#[async_trait]
impl Source for PolymarketSource {
    fn name(&self) -> &'static str {
        VENUE
    }

    fn channels(&self) -> Vec<&'static str> {
        vec!["gamma-markets", "clob-books", "clob-midpoints"]
    }

    async fn fetch(&self, channel: &str, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        match channel {
            "gamma-markets" => self.gamma(now).await,
            "clob-books" => self.books().await,
            "clob-midpoints" => self.midpoints(now).await,
            other => Err(SourceError::Config(format!("unknown channel {other}"))),
        }
    }

    fn committed(&self, channel: &str, _now: DateTime<Utc>) {
        if channel == "gamma-markets"
            && let (Ok(fetched), Ok(mut tokens)) = (self.fetched_tokens.lock(), self.tokens.lock())
        {
            tokens.clone_from(&fetched);
        }
    }
}
