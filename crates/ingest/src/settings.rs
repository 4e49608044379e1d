//! Command-line and environment settings of the market-data sources (clap, flattened into the
//! ingest worker's settings), and the one function that turns them into [`Source`]s.
//!
//! This module only parses settings and builds source clients; it fetches nothing itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::http::{HttpClient, HttpPolicy};
use crate::sources::defillama::{DefiLlamaConfig, DefiLlamaSource};
use crate::sources::hyperliquid::{HyperliquidConfig, HyperliquidSource};
use crate::sources::polymarket::{PolymarketConfig, PolymarketSource};
use crate::sources::replay::{GeneratorConfig, ReplayConfig, ReplaySource};
use crate::{Source, Timeframe};

/// A market-data source a worker can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceName {
    /// Replayed OHLCV files and the seeded generator (offline).
    Replay,
    /// Hyperliquid `/info`.
    Hyperliquid,
    /// Polymarket Gamma and CLOB.
    Polymarket,
    /// DefiLlama TVL.
    Defillama,
}

/// How each source is reached and what it fetches.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// Sources to run, comma-separated: replay, hyperliquid, polymarket, defillama.
    #[arg(
        long,
        env = "INGEST_SOURCES",
        value_delimiter = ',',
        default_value = "replay"
    )]
    pub sources: Vec<SourceName>,

    /// Per-request timeout of the source clients, in milliseconds.
    #[arg(long, env = "INGEST_HTTP_TIMEOUT_MS", default_value_t = 10_000)]
    pub http_timeout_ms: u64,
    /// Attempts per request, the first included.
    #[arg(long, env = "INGEST_HTTP_MAX_ATTEMPTS", default_value_t = 3)]
    pub http_max_attempts: u32,
    /// First retry backoff in milliseconds (doubled per retry).
    #[arg(long, env = "INGEST_HTTP_BACKOFF_MS", default_value_t = 250)]
    pub http_backoff_ms: u64,
    /// Longest wait between attempts (and longest Retry-After honoured), in milliseconds.
    #[arg(long, env = "INGEST_HTTP_MAX_BACKOFF_MS", default_value_t = 5_000)]
    pub http_max_backoff_ms: u64,

    /// Hyperliquid API base (`/info` is appended).
    #[arg(
        long,
        env = "HYPERLIQUID_BASE_URL",
        default_value = "https://api.hyperliquid.xyz"
    )]
    pub hyperliquid_base_url: Url,
    /// Perp coins to track.
    #[arg(
        long,
        env = "HYPERLIQUID_COINS",
        value_delimiter = ',',
        default_value = "BTC,ETH,SOL"
    )]
    pub hyperliquid_coins: Vec<String>,
    /// Candle intervals to fetch.
    #[arg(
        long,
        env = "HYPERLIQUID_INTERVALS",
        value_delimiter = ',',
        default_value = "1m,1h"
    )]
    pub hyperliquid_intervals: Vec<String>,
    /// How far back candles and funding are fetched each cycle, in minutes.
    #[arg(long, env = "HYPERLIQUID_LOOKBACK_MINUTES", default_value_t = 120)]
    pub hyperliquid_lookback_minutes: i64,

    /// Polymarket Gamma API base.
    #[arg(
        long,
        env = "POLYMARKET_GAMMA_URL",
        default_value = "https://gamma-api.polymarket.com"
    )]
    pub polymarket_gamma_url: Url,
    /// Polymarket CLOB API base.
    #[arg(
        long,
        env = "POLYMARKET_CLOB_URL",
        default_value = "https://clob.polymarket.com"
    )]
    pub polymarket_clob_url: Url,
    /// Market slugs to track; empty tracks the top open markets by volume.
    #[arg(long, env = "POLYMARKET_SLUGS", value_delimiter = ',')]
    pub polymarket_slugs: Vec<String>,
    /// How many markets to track when no slugs are given.
    #[arg(long, env = "POLYMARKET_MARKET_LIMIT", default_value_t = 20)]
    pub polymarket_market_limit: u32,

    /// DefiLlama API base.
    #[arg(
        long,
        env = "DEFILLAMA_BASE_URL",
        default_value = "https://api.llama.fi"
    )]
    pub defillama_base_url: Url,
    /// Protocol slugs whose TVL is tracked.
    #[arg(
        long,
        env = "DEFILLAMA_PROTOCOLS",
        value_delimiter = ',',
        default_value = "aave,uniswap"
    )]
    pub defillama_protocols: Vec<String>,
    /// Chains whose TVL is tracked.
    #[arg(
        long,
        env = "DEFILLAMA_CHAINS",
        value_delimiter = ',',
        default_value = "Ethereum,Arbitrum"
    )]
    pub defillama_chains: Vec<String>,
    /// How far back TVL points are stored each cycle, in days.
    #[arg(long, env = "DEFILLAMA_LOOKBACK_DAYS", default_value_t = 7)]
    pub defillama_lookback_days: i64,

    /// Directory of OHLCV files (`<SYMBOL>_<timeframe>.csv|json`) to replay.
    #[arg(long, env = "REPLAY_DIR")]
    pub replay_dir: Option<PathBuf>,
    /// Whether the seeded generator runs.
    #[arg(long, env = "REPLAY_GENERATOR", default_value_t = true, action = clap::ArgAction::Set)]
    pub replay_generator: bool,
    /// The generator's seed.
    #[arg(long, env = "REPLAY_SEED", default_value_t = 42)]
    pub replay_seed: u64,
    /// Symbols the generator produces.
    #[arg(
        long,
        env = "REPLAY_SYMBOLS",
        value_delimiter = ',',
        default_value = "BTC,ETH,SOL"
    )]
    pub replay_symbols: Vec<String>,
    /// Minute zero of the generated paths (RFC 3339).
    #[arg(long, env = "REPLAY_ANCHOR", default_value = "2026-01-01T00:00:00Z")]
    pub replay_anchor: DateTime<Utc>,
    /// History the generator writes on its first cycle, in hours.
    #[arg(long, env = "REPLAY_BACKFILL_HOURS", default_value_t = 24)]
    pub replay_backfill_hours: i64,
    /// Timeframes the generator aggregates (at most 1d).
    #[arg(
        long,
        env = "REPLAY_TIMEFRAMES",
        value_delimiter = ',',
        default_value = "1m,5m,15m,1h,4h,1d"
    )]
    pub replay_timeframes: Vec<String>,
}

fn timeframes(names: &[String]) -> Result<Vec<Timeframe>, String> {
    names
        .iter()
        .map(|name| name.parse::<Timeframe>().map_err(|error| error.to_string()))
        .collect()
}

impl SourceArgs {
    fn http(&self) -> Result<HttpClient, String> {
        if self.http_max_attempts == 0 {
            return Err("INGEST_HTTP_MAX_ATTEMPTS must be positive".into());
        }
        HttpClient::new(HttpPolicy {
            timeout: Duration::from_millis(self.http_timeout_ms),
            max_attempts: self.http_max_attempts,
            base_backoff: Duration::from_millis(self.http_backoff_ms),
            max_backoff: Duration::from_millis(self.http_max_backoff_ms),
            ..HttpPolicy::default()
        })
        .map_err(|error| error.to_string())
    }

    /// Clients of the enabled sources, in the order given (a name repeated in a row counts
    /// once).
    ///
    /// # Errors
    /// A message naming the unusable setting (a bad timeframe, no replay input, no source).
    pub fn build(&self) -> Result<Vec<Arc<dyn Source>>, String> {
        let mut sources: Vec<Arc<dyn Source>> = Vec::new();
        let mut names = self.sources.clone();
        names.dedup();
        for name in names {
            let source: Arc<dyn Source> = match name {
                SourceName::Replay => {
                    let replay_timeframes = timeframes(&self.replay_timeframes)?;
                    let generator = self.replay_generator.then(|| GeneratorConfig {
                        seed: self.replay_seed,
                        symbols: self.replay_symbols.clone(),
                        anchor: self.replay_anchor,
                        backfill: chrono::Duration::hours(self.replay_backfill_hours.max(0)),
                        timeframes: replay_timeframes,
                    });
                    if generator.is_none() && self.replay_dir.is_none() {
                        return Err(
                            "the replay source needs REPLAY_DIR or REPLAY_GENERATOR=true".into(),
                        );
                    }
                    Arc::new(ReplaySource::new(ReplayConfig {
                        dir: self.replay_dir.clone(),
                        generator,
                    }))
                }
                SourceName::Hyperliquid => Arc::new(HyperliquidSource::new(
                    HyperliquidConfig {
                        base_url: self.hyperliquid_base_url.clone(),
                        coins: self.hyperliquid_coins.clone(),
                        intervals: timeframes(&self.hyperliquid_intervals)?,
                        lookback: chrono::Duration::minutes(self.hyperliquid_lookback_minutes),
                    },
                    self.http()?,
                )),
                SourceName::Polymarket => Arc::new(PolymarketSource::new(
                    PolymarketConfig {
                        gamma_url: self.polymarket_gamma_url.clone(),
                        clob_url: self.polymarket_clob_url.clone(),
                        slugs: self.polymarket_slugs.clone(),
                        market_limit: self.polymarket_market_limit,
                    },
                    self.http()?,
                )),
                SourceName::Defillama => Arc::new(DefiLlamaSource::new(
                    DefiLlamaConfig {
                        base_url: self.defillama_base_url.clone(),
                        protocols: self.defillama_protocols.clone(),
                        chains: self.defillama_chains.clone(),
                        lookback: chrono::Duration::days(self.defillama_lookback_days),
                    },
                    self.http()?,
                )),
            };
            sources.push(source);
        }
        if sources.is_empty() {
            return Err("no source enabled (INGEST_SOURCES)".into());
        }
        Ok(sources)
    }
}
