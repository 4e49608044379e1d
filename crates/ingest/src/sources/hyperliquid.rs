//! Hyperliquid's public info API (`POST {base}/info`, decimals as strings, times in ms).
//!
//! Channels, in order: `metaAndAssetCtxs` (perp instruments with size decimals and max
//! leverage, plus each tracked coin's funding and premium now), `allMids` (mids of tracked
//! coins), `candleSnapshot` (bars of each tracked coin and interval since the last window),
//! `l2Book` (a snapshot per tracked coin), `fundingHistory` (funding since the window start).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_market::{InstrumentKey, Timeframe};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use url::Url;

use crate::error::{SourceError, malformed};
use crate::http::{HttpClient, endpoint};
use crate::parse::{
    array, decimal, decimal_field, field, integer, millis, object, opt_bool, string,
};
use crate::{Batch, BookSnapshot, Candle, FundingRate, Level, NewInstrument, Source};

/// The venue name in keys.
pub const VENUE: &str = "hyperliquid";

/// What to fetch from Hyperliquid.
#[derive(Debug, Clone)]
pub struct HyperliquidConfig {
    /// API base, e.g. `https://api.hyperliquid.xyz` (the client posts to `{base}/info`).
    pub base_url: Url,
    /// Perp coins to track (`BTC`, `ETH`, …).
    pub coins: Vec<String>,
    /// Candle intervals to fetch.
    pub intervals: Vec<Timeframe>,
    /// How far back candles and funding are fetched each cycle.
    pub lookback: Duration,
}

/// The Hyperliquid source.
pub struct HyperliquidSource {
    config: HyperliquidConfig,
    http: HttpClient,
}

impl HyperliquidSource {
    /// A source over `http`.
    pub fn new(config: HyperliquidConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    async fn info(&self, body: Value) -> Result<Value, SourceError> {
        let url = endpoint(&self.config.base_url, "info")?;
        self.http.post_json(&url, &body).await
    }

    /// The key of a configured coin; a coin the key grammar refuses is a configuration error.
    fn key(coin: &str) -> Result<InstrumentKey, SourceError> {
        InstrumentKey::perp(VENUE, coin)
            .map_err(|error| SourceError::Config(format!("coin `{coin}`: {error}")))
    }

    fn known(coin: &str) -> Result<NewInstrument, SourceError> {
        let mut instrument = NewInstrument::bare(Self::key(coin)?);
        instrument.base = Some(coin.to_string());
        instrument.quote = Some("USDC".into());
        Ok(instrument)
    }

    async fn meta(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let value = self.info(json!({ "type": "metaAndAssetCtxs" })).await?;
        let pair = array(&value, "metaAndAssetCtxs")?;
        let [meta, contexts] = pair.as_slice() else {
            return Err(malformed("metaAndAssetCtxs: expected [meta, contexts]"));
        };
        let universe = array(
            field(object(meta, "meta")?, "universe", "meta")?,
            "universe",
        )?;
        let contexts = array(contexts, "asset contexts")?;
        if universe.len() != contexts.len() {
            return Err(malformed(format!(
                "metaAndAssetCtxs: {} assets but {} contexts",
                universe.len(),
                contexts.len()
            )));
        }
        let mut batch = Batch::default();
        for (asset, context) in universe.iter().zip(contexts) {
            let asset = object(asset, "universe entry")?;
            let name = string(asset, "name", "universe entry")?;
            let what = format!("asset {name}");
            let sz_decimals = integer(field(asset, "szDecimals", &what)?, &what)?;
            let sz_decimals = u32::try_from(sz_decimals)
                .ok()
                .filter(|d| *d <= 18)
                .ok_or_else(|| malformed(format!("{what}: szDecimals out of range")))?;
            let max_leverage = integer(field(asset, "maxLeverage", &what)?, &what)?;
            let delisted = opt_bool(asset, "isDelisted", &what)?.unwrap_or(false);
            let context = object(context, &what)?;
            let funding = decimal_field(context, "funding", &what)?;
            let mark = decimal_field(context, "markPx", &what)?;
            let premium = crate::parse::opt_decimal_field(context, "premium", &what)?;
            let open_interest = decimal_field(context, "openInterest", &what)?;
            let oracle = decimal_field(context, "oraclePx", &what)?;
            if !self.config.coins.contains(&name) {
                continue;
            }
            let mut instrument = Self::known(&name)?;
            instrument.active = !delisted;
            instrument.lot_size = Some(Decimal::new(1, sz_decimals));
            instrument.metadata = json!({
                "szDecimals": sz_decimals,
                "maxLeverage": max_leverage,
                "onlyIsolated": opt_bool(asset, "onlyIsolated", &what)?.unwrap_or(false),
                "markPx": mark.to_string(),
                "oraclePx": oracle.to_string(),
                "openInterest": open_interest.to_string(),
            });
            batch.instruments.push(instrument);
            batch.funding.push((
                Self::key(&name)?,
                FundingRate {
                    time: now,
                    rate: funding,
                    premium,
                },
            ));
        }
        Ok(batch)
    }

    async fn mids(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let value = self.info(json!({ "type": "allMids" })).await?;
        let mids = object(&value, "allMids")?;
        let mut parsed = BTreeMap::new();
        for (coin, price) in mids {
            parsed.insert(coin.clone(), decimal(price, &format!("allMids.{coin}"))?);
        }
        let mut batch = Batch::default();
        for coin in &self.config.coins {
            let Some(price) = parsed.get(coin) else {
                return Err(malformed(format!("allMids: no mid for {coin}")));
            };
            batch.known_instruments.push(Self::known(coin)?);
            batch.mids.push((Self::key(coin)?, now, *price));
        }
        Ok(batch)
    }

    async fn candles(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        let start = (now - self.config.lookback).timestamp_millis();
        for coin in &self.config.coins {
            batch.known_instruments.push(Self::known(coin)?);
            for interval in &self.config.intervals {
                let value = self
                    .info(json!({
                        "type": "candleSnapshot",
                        "req": {
                            "coin": coin,
                            "interval": interval.as_str(),
                            "startTime": start,
                            "endTime": now.timestamp_millis(),
                        }
                    }))
                    .await?;
                for bar in array(&value, "candleSnapshot")? {
                    let bar = object(bar, "candle")?;
                    let symbol = string(bar, "s", "candle")?;
                    let bar_interval = string(bar, "i", "candle")?;
                    if symbol != *coin || bar_interval != interval.as_str() {
                        return Err(malformed(format!(
                            "candleSnapshot for {coin} {interval} returned {symbol} {bar_interval}"
                        )));
                    }
                    let candle = Candle {
                        open_time: millis(field(bar, "t", "candle")?, "candle.t")?,
                        open: decimal_field(bar, "o", "candle")?,
                        high: decimal_field(bar, "h", "candle")?,
                        low: decimal_field(bar, "l", "candle")?,
                        close: decimal_field(bar, "c", "candle")?,
                        volume: decimal_field(bar, "v", "candle")?,
                        trades: Some(integer(field(bar, "n", "candle")?, "candle.n")?),
                    };
                    batch.candles.push((Self::key(coin)?, *interval, candle));
                }
            }
        }
        Ok(batch)
    }

    async fn books(&self) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        for coin in &self.config.coins {
            let value = self.info(json!({ "type": "l2Book", "coin": coin })).await?;
            let book = object(&value, "l2Book")?;
            let returned = string(book, "coin", "l2Book")?;
            if returned != *coin {
                return Err(malformed(format!("l2Book for {coin} returned {returned}")));
            }
            let observed_at = millis(field(book, "time", "l2Book")?, "l2Book.time")?;
            let levels = array(field(book, "levels", "l2Book")?, "l2Book.levels")?;
            let [bids, asks] = levels.as_slice() else {
                return Err(malformed("l2Book.levels: expected [bids, asks]"));
            };
            let side = |levels: &Value, what: &str| -> Result<Vec<Level>, SourceError> {
                array(levels, what)?
                    .iter()
                    .map(|level| {
                        let level = object(level, what)?;
                        Ok((
                            decimal_field(level, "px", what)?,
                            decimal_field(level, "sz", what)?,
                        ))
                    })
                    .collect()
            };
            batch.known_instruments.push(Self::known(coin)?);
            batch.books.push((
                Self::key(coin)?,
                BookSnapshot {
                    observed_at,
                    bids: side(bids, "l2Book bids")?,
                    asks: side(asks, "l2Book asks")?,
                },
            ));
        }
        Ok(batch)
    }

    async fn funding(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        let start = (now - self.config.lookback).timestamp_millis();
        for coin in &self.config.coins {
            let value = self
                .info(json!({ "type": "fundingHistory", "coin": coin, "startTime": start }))
                .await?;
            batch.known_instruments.push(Self::known(coin)?);
            for entry in array(&value, "fundingHistory")? {
                let entry = object(entry, "funding entry")?;
                let returned = string(entry, "coin", "funding entry")?;
                if returned != *coin {
                    return Err(malformed(format!(
                        "fundingHistory for {coin} returned {returned}"
                    )));
                }
                batch.funding.push((
                    Self::key(coin)?,
                    FundingRate {
                        time: millis(field(entry, "time", "funding entry")?, "funding.time")?,
                        rate: decimal_field(entry, "fundingRate", "funding entry")?,
                        premium: crate::parse::opt_decimal_field(
                            entry,
                            "premium",
                            "funding entry",
                        )?,
                    },
                ));
            }
        }
        Ok(batch)
    }
}

#[async_trait]
impl Source for HyperliquidSource {
    fn name(&self) -> &'static str {
        VENUE
    }

    fn channels(&self) -> Vec<&'static str> {
        vec![
            "metaAndAssetCtxs",
            "allMids",
            "candleSnapshot",
            "l2Book",
            "fundingHistory",
        ]
    }

    async fn fetch(&self, channel: &str, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        match channel {
            "metaAndAssetCtxs" => self.meta(now).await,
            "allMids" => self.mids(now).await,
            "candleSnapshot" => self.candles(now).await,
            "l2Book" => self.books().await,
            "fundingHistory" => self.funding(now).await,
            other => Err(SourceError::Config(format!("unknown channel {other}"))),
        }
    }
}
