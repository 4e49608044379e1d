//! Wallet watch: a target wallet's trades read from the Polymarket Data API (`GET
//! /trades?user=`), normalised, and handed to the pipeline, with a persisted per-wallet
//! watermark. The watermark stored after a poll is the poll's start (less the Data API's
//! indexing lag), so a trade that lands while a poll runs is read again by the next one; the
//! ledger's key makes the overlap harmless. Decides nothing and writes nothing itself: the
//! service records fills and the watermark.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clones_ingest::http::{HttpClient, HttpPolicy};
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

/// Polls target wallets through the Data API and feeds the pipeline.
pub struct Watcher {
    service: Arc<dyn CopyTradeService>,
    http: HttpClient,
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
        let http = HttpClient::new(HttpPolicy::default())
            .map_err(|error| WatchError::Source(error.to_string()))?;
        Ok(Self {
            service,
            http,
            settings,
        })
    }

    fn url(&self, wallet: &str, offset: u32) -> Result<Url, WatchError> {
        let mut url = self
            .settings
            .data_api
            .join("trades")
            .map_err(|error| WatchError::Source(error.to_string()))?;
        url.query_pairs_mut()
            .append_pair("user", wallet)
            .append_pair("limit", &self.settings.page_size.to_string())
            .append_pair("offset", &offset.to_string())
            .append_pair("takerOnly", "false");
        Ok(url)
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
            let body = self
                .http
                .get_json(&self.url(wallet, offset)?)
                .await
                .map_err(|error| WatchError::Source(error.to_string()))?;
            let trades: Vec<DataApiTrade> = serde_json::from_value(body)
                .map_err(|error| WatchError::Source(format!("trades: {error}")))?;
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
