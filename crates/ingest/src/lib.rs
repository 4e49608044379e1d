//! Data ingestion: the platform's global market memory.
//!
//! This crate owns the market tables (instruments, candles, mids, book snapshots, funding
//! rates, prediction markets and their outcome prices, DeFi metrics) and `ingestion_runs`. It
//! fetches from Hyperliquid, Polymarket (Gamma and CLOB) and DefiLlama through [`sources`], or
//! replays files and a seeded generator offline ([`sources::replay`]), validates each channel's
//! whole response before writing it in one transaction, and records every fetch as a run.
//!
//! Other contexts (AI decision, prop engine, backtest) read market memory only through
//! [`MarketData`]; they never open their own source clients. An instrument is named by the
//! text key `venue:kind:symbol` (`clones_market::InstrumentKey`); candles by
//! `clones_market::Timeframe`.
//!
//! It holds no per-user data and no business rule about trading; it never writes another
//! context's tables.

mod batch;
mod error;
pub mod http;
mod ingestor;
mod models;
pub mod parse;
mod repo;
mod service;
pub mod settings;
pub mod sources;
mod views;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_kernel::{Page, PageRequest};
use clones_market::Timeframe;
use rust_decimal::Decimal;

pub use batch::{Batch, NewInstrument, NewPredictionMarket};
pub use error::{IngestError, SourceError};
pub use ingestor::{CycleOutcome, Ingestor, Source};
pub use service::PgIngestService;
pub use views::*;

/// Read access to market memory: the contract other contexts use.
///
/// Every "as of" read returns the latest observation at or before `as_of`, so replays and
/// backtests see exactly what was known then. Keys are `venue:kind:symbol`; an unknown key
/// answers `None` (or an empty list), a malformed one [`IngestError::InvalidInput`].
#[async_trait]
pub trait MarketData: Send + Sync {
    /// The instrument, with its market and resolution for outcome tokens.
    async fn instrument(&self, key: &str) -> Result<Option<Instrument>, IngestError>;

    /// The latest mid price at or before `as_of`, and when it was observed.
    async fn latest_mid(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(Decimal, DateTime<Utc>)>, IngestError>;

    /// The latest book snapshot at or before `as_of` (bids descending, asks ascending).
    async fn latest_book(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<BookSnapshot>, IngestError>;

    /// Bars opening in `[from, to)`, ascending (at most 5000): the recent window a
    /// decision reads. Longer ranges are read with [`MarketData::candle_page`].
    async fn candles(
        &self,
        key: &str,
        timeframe: Timeframe,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Candle>, IngestError>;

    /// One page of the bars opening in `[from, to)`, ascending, keyed by open time.
    async fn candle_page(
        &self,
        key: &str,
        timeframe: Timeframe,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: PageRequest<DateTime<Utc>>,
    ) -> Result<Page<Candle, DateTime<Utc>>, IngestError>;

    /// The latest funding rate at or before `as_of`.
    async fn latest_funding(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, IngestError>;

    /// The latest outcome-token price (0..1) at or before `as_of`, and when it was observed.
    async fn outcome_price(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(Decimal, DateTime<Utc>)>, IngestError>;
}

/// Market memory with its writes, listings and ingestion bookkeeping.
#[async_trait]
pub trait IngestService: MarketData {
    /// One page of instruments, ordered by key.
    async fn instruments(
        &self,
        filter: InstrumentFilter,
        page: PageRequest<String>,
    ) -> Result<Page<Instrument, String>, IngestError>;

    /// One page of prediction markets with their outcome keys, soonest end first (undated
    /// last), then by market id.
    async fn prediction_markets(
        &self,
        closed: Option<bool>,
        page: PageRequest<MarketSortKey>,
    ) -> Result<Page<PredictionMarket, MarketSortKey>, IngestError>;

    /// One page of DeFi metrics ordered by subject and metric, newest first within each,
    /// within `[from, to)` when given.
    async fn defi_metrics(
        &self,
        filter: DefiFilter,
        page: PageRequest<DefiSortKey>,
    ) -> Result<Page<DefiMetric, DefiSortKey>, IngestError>;

    /// Validates `batch` and writes it with its succeeded run in one transaction, returning the
    /// run. A batch that fails validation, or breaks a constraint while being written, stores
    /// nothing and is recorded as a failed run (returned, with the reason as its error).
    ///
    /// # Errors
    /// A database failure that prevented even recording the failed run.
    async fn store_batch(
        &self,
        source: &str,
        channel: &str,
        started_at: DateTime<Utc>,
        latency_ms: i64,
        batch: Batch,
    ) -> Result<IngestionRun, IngestError>;

    /// Records a failed fetch.
    ///
    /// # Errors
    /// A database failure.
    async fn record_failure(
        &self,
        source: &str,
        channel: &str,
        started_at: DateTime<Utc>,
        latency_ms: i64,
        error: &str,
    ) -> Result<IngestionRun, IngestError>;

    /// Ingestion runs, newest first by (start, id), optionally of one source, one page at a
    /// time.
    async fn runs(
        &self,
        source: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<IngestionRun>, IngestError>;

    /// Per source and channel: latest run, latest success, failures since, latest error.
    async fn source_health(&self) -> Result<Vec<SourceHealth>, IngestError>;
}
