//! Wallet watch: a target wallet's trades read from the Polymarket Data API (`GET
//! /trades?user=`), normalised, and handed to the pipeline, with a persisted per-wallet
//! watermark. The watermark stored after a poll is the poll's start (less the Data API's
//! indexing lag), so a trade that lands while a poll runs is read again by the next one; the
//! ledger's key makes the overlap harmless. Decides nothing and writes nothing itself: the
//! service records fills and the watermark.
//!
//! [`DataApi`] is the one client of the Data API: the trades the watcher reads and the
//! positions the sync step's cross-check reads (`GET /positions?user=`).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_ingest::http::{HttpClient, HttpPolicy};
use rust_decimal::Decimal;
use serde::Deserialize;
use url::Url;

use crate::CopyTradeService;
use crate::error::CopyTradeError;
use crate::fill::{DataApiTrade, normalise};
use crate::views::TickReport;

/// Where and how the Data API is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    /// The Data API's base URL (`https://data-api.polymarket.com`).
    pub data_api: Url,
    /// Trades per page (at most 500 here; the API allows 10 000).
    pub page_size: u32,
    /// Pages read per wallet and poll, at most.
    pub max_pages: u32,
    /// Seconds a trade may take to appear in the Data API: the stored watermark is the poll's
    /// start less this.
    pub lag_secs: i64,
    /// On a wallet's first poll, how far back to read.
    pub backlog_secs: i64,
}

impl WatchSettings {
    /// Defaults for `data_api`.
    pub fn new(data_api: Url) -> Self {
        Self {
            data_api,
            page_size: 500,
            max_pages: 10,
            lag_secs: 60,
            backlog_secs: 60,
        }
    }
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The Data API failed or answered something else than its shape.
    #[error("data api: {0}")]
    Source(String),
    /// The service failed.
    #[error(transparent)]
    Service(#[from] CopyTradeError),
}

/// What one poll of one wallet did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Trades read.
    pub trades: usize,
    /// The outcome tokens of every trade read (old ones too): the assets whose market
    /// stream should wake this wallet.
    pub assets: BTreeSet<String>,
    /// Trades that could not be normalised (recorded nowhere: they name no order).
    pub malformed: usize,
    /// The pipeline's counts.
    pub tick: TickReport,
}

/// One item of the Data API's `GET /positions` answer (the fields the cross-check reads;
/// numbers may arrive as JSON numbers or strings).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataApiPosition {
    /// The outcome token id (a decimal string).
    pub asset: String,
    /// Shares held.
    pub size: Decimal,
}

/// Positions read per page; the Data API allows up to 500.
const POSITIONS_PAGE: usize = 500;

/// Pages of positions read per wallet, at most.
const POSITIONS_PAGES: usize = 20;

/// The Polymarket Data API client: trades and positions of a wallet.
#[derive(Debug, Clone)]
pub struct DataApi {
    http: HttpClient,
    base: Url,
}

impl DataApi {
    /// A client of the Data API at `base` (`https://data-api.polymarket.com/`). Needs the TLS
    /// provider installed for https.
    ///
    /// # Errors
    /// [`WatchError::Source`] when the HTTP client cannot be built.
    pub fn new(base: Url) -> Result<Self, WatchError> {
        let http = HttpClient::new(HttpPolicy::default())
            .map_err(|error| WatchError::Source(error.to_string()))?;
        Ok(Self { http, base })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, WatchError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|error| WatchError::Source(error.to_string()))?;
        url.query_pairs_mut().extend_pairs(query);
        let body = self
            .http
            .get_json(&url)
            .await
            .map_err(|error| WatchError::Source(error.to_string()))?;
        serde_json::from_value(body).map_err(|error| WatchError::Source(format!("{path}: {error}")))
    }

    /// One page of `wallet`'s trades, newest first (`GET /trades?user&limit&offset&takerOnly=false`).
    ///
    /// # Errors
    /// [`WatchError::Source`] when the call fails or the answer is not a list of trades.
    pub async fn trades(
        &self,
        wallet: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<DataApiTrade>, WatchError> {
        self.get(
            "trades",
            &[
                ("user", wallet.to_string()),
                ("limit", limit.to_string()),
                ("offset", offset.to_string()),
                ("takerOnly", "false".into()),
            ],
        )
        .await
    }

    /// Every position `wallet` holds, however small (`GET /positions?user&sizeThreshold=0`,
    /// paged by `limit` and `offset`).
    ///
    /// # Errors
    /// [`WatchError::Source`] when a call fails or an answer is not a list of positions.
    pub async fn positions(&self, wallet: &str) -> Result<Vec<DataApiPosition>, WatchError> {
        let mut positions = Vec::new();
        for page in 0..POSITIONS_PAGES {
            let batch: Vec<DataApiPosition> = self
                .get(
                    "positions",
                    &[
                        ("user", wallet.to_string()),
                        ("sizeThreshold", "0".into()),
                        ("limit", POSITIONS_PAGE.to_string()),
                        ("offset", (page * POSITIONS_PAGE).to_string()),
                    ],
                )
                .await?;
            let short = batch.len() < POSITIONS_PAGE;
            positions.extend(batch);
            if short {
                return Ok(positions);
            }
        }
        Err(WatchError::Source(format!(
            "positions: more than {} pages",
            POSITIONS_PAGES
        )))
    }
}

/// Polls target wallets through the Data API and feeds the pipeline.
pub struct Watcher {
    service: Arc<dyn CopyTradeService>,
    data_api: DataApi,
    settings: WatchSettings,
}

impl Watcher {
    /// A watcher feeding `service`. Needs the TLS provider installed for https.
    ///
    /// # Errors
    /// [`WatchError::Source`] when the HTTP client cannot be built.
    pub fn new(
        service: Arc<dyn CopyTradeService>,
        settings: WatchSettings,
    ) -> Result<Self, WatchError> {
        Ok(Self {
            service,
            data_api: DataApi::new(settings.data_api.clone())?,
            settings,
        })
    }

    /// The Data API client it reads through.
    pub fn data_api(&self) -> &DataApi {
        &self.data_api
    }

    /// Reads `wallet`'s trades since its watermark, mirrors them, and stores the new
    /// watermark (taken at the start: `now` less the lag).
    ///
    /// # Errors
    /// [`WatchError`] when the Data API or the service fails; the watermark then stays, so
    /// the next poll reads the same trades again.
    pub async fn poll(&self, wallet: &str, now: DateTime<Utc>) -> Result<PollReport, WatchError> {
        let started = now.timestamp();
        let since = self
            .service
            .watermark(wallet)
            .await?
            .unwrap_or(started - self.settings.backlog_secs);
        let mut report = PollReport::default();
        let mut fills = Vec::new();
        for page in 0..self.settings.max_pages {
            let offset = page * self.settings.page_size;
            let trades = self
                .data_api
                .trades(wallet, self.settings.page_size, offset)
                .await?;
            report.trades += trades.len();
            let short = trades.len() < self.settings.page_size as usize;
            let mut older = true;
            for trade in &trades {
                report.assets.insert(trade.asset.clone());
                if trade.timestamp < since {
                    continue;
                }
                older = false;
                match normalise(trade) {
                    Ok(fill) => fills.push(fill),
                    Err(error) => {
                        report.malformed += 1;
                        tracing::warn!(wallet, %error, "copy-mirror: unmirrorable trade");
                    }
                }
            }
            // A short page is the last; a page wholly before the watermark ends the walk back.
            if short || older {
                break;
            }
        }
        // The pipeline sees a wallet's fills in the order they happened.
        fills.sort_by(|a, b| {
            a.timestamp
                .cmp(&b.timestamp)
                .then(a.fill_id.cmp(&b.fill_id))
        });
        fills.dedup_by(|a, b| a.fill_id == b.fill_id);
        report.tick = self.service.mirror(wallet, &fills).await?;
        self.service
            .set_watermark(wallet, (started - self.settings.lag_secs).max(since))
            .await?;
        Ok(report)
    }
}
