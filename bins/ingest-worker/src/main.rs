//! Fills market memory: each cycle runs every enabled source (offline replay by default;
//! Hyperliquid, Polymarket and DefiLlama when enabled), each channel recorded as an ingestion
//! run. A failing source never stops the others; the cycle reports failure if any channel
//! failed, so the heartbeat shows it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clap::Parser;
use clones_ingest::http::{HttpClient, HttpPolicy};
use clones_ingest::sources::defillama::{DefiLlamaConfig, DefiLlamaSource};
use clones_ingest::sources::hyperliquid::{HyperliquidConfig, HyperliquidSource};
use clones_ingest::sources::polymarket::{PolymarketConfig, PolymarketSource};
use clones_ingest::sources::replay::{GeneratorConfig, ReplayConfig, ReplaySource};
use clones_ingest::{Ingestor, PgIngestService, RunStatus, Source};
use clones_market::Timeframe;
use clones_runtime::settings::DatabaseArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerOptions};
use url::Url;

/// Which sources a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SourceName {
    Replay,
    Hyperliquid,
    Polymarket,
    Defillama,
}

/// Settings of the ingest worker.
#[derive(Debug, Parser)]
#[command(name = "ingest-worker", version)]
struct Settings {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Sources to run, comma-separated: replay, hyperliquid, polymarket, defillama.
    #[arg(
        long,
        env = "INGEST_SOURCES",
        value_delimiter = ',',
        default_value = "replay"
    )]
    sources: Vec<SourceName>,
    /// Seconds between cycles.
    #[arg(long, env = "INGEST_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    /// Run one cycle and exit (non-zero if any channel failed).
    #[arg(long)]
    once: bool,

    /// Per-request timeout of the source clients, in milliseconds.
    #[arg(long, env = "INGEST_HTTP_TIMEOUT_MS", default_value_t = 10_000)]
    http_timeout_ms: u64,
    /// Attempts per request, the first included.
    #[arg(long, env = "INGEST_HTTP_MAX_ATTEMPTS", default_value_t = 3)]
    http_max_attempts: u32,
    /// First retry backoff in milliseconds (doubled per retry).
    #[arg(long, env = "INGEST_HTTP_BACKOFF_MS", default_value_t = 250)]
    http_backoff_ms: u64,
    /// Longest wait between attempts (and longest Retry-After honoured), in milliseconds.
    #[arg(long, env = "INGEST_HTTP_MAX_BACKOFF_MS", default_value_t = 5_000)]
    http_max_backoff_ms: u64,

    /// Hyperliquid API base (`/info` is appended).
    #[arg(
        long,
        env = "HYPERLIQUID_BASE_URL",
        default_value = "https://api.hyperliquid.xyz"
    )]
    hyperliquid_base_url: Url,
    /// Perp coins to track.
    #[arg(
        long,
        env = "HYPERLIQUID_COINS",
        value_delimiter = ',',
        default_value = "BTC,ETH,SOL"
    )]
    hyperliquid_coins: Vec<String>,
    /// Candle intervals to fetch.
    #[arg(
        long,
        env = "HYPERLIQUID_INTERVALS",
        value_delimiter = ',',
        default_value = "1m,1h"
    )]
    hyperliquid_intervals: Vec<String>,
    /// How far back candles and funding are fetched each cycle, in minutes.
    #[arg(long, env = "HYPERLIQUID_LOOKBACK_MINUTES", default_value_t = 120)]
    hyperliquid_lookback_minutes: i64,

    /// Polymarket Gamma API base.
    #[arg(
        long,
        env = "POLYMARKET_GAMMA_URL",
        default_value = "https://gamma-api.polymarket.com"
    )]
    polymarket_gamma_url: Url,
    /// Polymarket CLOB API base.
    #[arg(
        long,
        env = "POLYMARKET_CLOB_URL",
        default_value = "https://clob.polymarket.com"
    )]
    polymarket_clob_url: Url,
    /// Market slugs to track; empty tracks the top open markets by volume.
    #[arg(long, env = "POLYMARKET_SLUGS", value_delimiter = ',')]
    polymarket_slugs: Vec<String>,
    /// How many markets to track when no slugs are given.
    #[arg(long, env = "POLYMARKET_MARKET_LIMIT", default_value_t = 20)]
    polymarket_market_limit: u32,

    /// DefiLlama API base.
    #[arg(
        long,
        env = "DEFILLAMA_BASE_URL",
        default_value = "https://api.llama.fi"
    )]
    defillama_base_url: Url,
    /// Protocol slugs whose TVL is tracked.
    #[arg(
        long,
        env = "DEFILLAMA_PROTOCOLS",
        value_delimiter = ',',
        default_value = "aave,uniswap"
    )]
    defillama_protocols: Vec<String>,
    /// Chains whose TVL is tracked.
    #[arg(
        long,
        env = "DEFILLAMA_CHAINS",
        value_delimiter = ',',
        default_value = "Ethereum,Arbitrum"
    )]
    defillama_chains: Vec<String>,
    /// How far back TVL points are stored each cycle, in days.
    #[arg(long, env = "DEFILLAMA_LOOKBACK_DAYS", default_value_t = 7)]
    defillama_lookback_days: i64,

    /// Directory of OHLCV files (`<SYMBOL>_<timeframe>.csv|json`) to replay.
    #[arg(long, env = "REPLAY_DIR")]
    replay_dir: Option<PathBuf>,
    /// Whether the seeded generator runs.
    #[arg(long, env = "REPLAY_GENERATOR", default_value_t = true, action = clap::ArgAction::Set)]
    replay_generator: bool,
    /// The generator's seed.
    #[arg(long, env = "REPLAY_SEED", default_value_t = 42)]
    replay_seed: u64,
    /// Symbols the generator produces.
    #[arg(
        long,
        env = "REPLAY_SYMBOLS",
        value_delimiter = ',',
        default_value = "BTC,ETH,SOL"
    )]
    replay_symbols: Vec<String>,
    /// Minute zero of the generated paths (RFC 3339).
    #[arg(long, env = "REPLAY_ANCHOR", default_value = "2026-01-01T00:00:00Z")]
    replay_anchor: DateTime<Utc>,
    /// History the generator writes on its first cycle, in hours.
    #[arg(long, env = "REPLAY_BACKFILL_HOURS", default_value_t = 24)]
    replay_backfill_hours: i64,
    /// Timeframes the generator aggregates (at most 1d).
    #[arg(
        long,
        env = "REPLAY_TIMEFRAMES",
        value_delimiter = ',',
        default_value = "1m,5m,15m,1h,4h,1d"
    )]
    replay_timeframes: Vec<String>,
}

fn timeframes(names: &[String]) -> anyhow::Result<Vec<Timeframe>> {
    names
        .iter()
        .map(|name| name.parse::<Timeframe>().map_err(anyhow::Error::msg))
        .collect()
}

impl Settings {
    fn http(&self) -> anyhow::Result<HttpClient> {
        anyhow::ensure!(
            self.http_max_attempts > 0,
            "INGEST_HTTP_MAX_ATTEMPTS must be positive"
        );
        HttpClient::new(HttpPolicy {
            timeout: Duration::from_millis(self.http_timeout_ms),
            max_attempts: self.http_max_attempts,
            base_backoff: Duration::from_millis(self.http_backoff_ms),
            max_backoff: Duration::from_millis(self.http_max_backoff_ms),
            ..HttpPolicy::default()
        })
        .map_err(anyhow::Error::msg)
    }

    fn sources(&self) -> anyhow::Result<Vec<Arc<dyn Source>>> {
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
                    anyhow::ensure!(
                        generator.is_some() || self.replay_dir.is_some(),
                        "the replay source needs REPLAY_DIR or REPLAY_GENERATOR=true"
                    );
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
        anyhow::ensure!(!sources.is_empty(), "no source enabled (INGEST_SOURCES)");
        Ok(sources)
    }
}

struct Ingest(Ingestor);

#[async_trait]
impl Cycle for Ingest {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let outcome = self.0.run_once().await;
        let failed: Vec<String> = outcome
            .runs
            .iter()
            .filter(|run| run.status == RunStatus::Failed)
            .map(|run| format!("{}/{}", run.source, run.channel))
            .collect();
        if !failed.is_empty() {
            // The other channels' rows are stored; the heartbeat shows which failed.
            return Err(format!(
                "{} of {} channel(s) failed: {}",
                failed.len(),
                outcome.runs.len(),
                failed.join(", ")
            )
            .into());
        }
        Ok(CycleReport {
            items: outcome.rows(),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = Settings::parse();
    anyhow::ensure!(settings.interval_secs > 0, "interval must be positive");
    let sources = settings.sources().context("invalid source settings")?;
    let db = settings.database.connect()?;
    let clock: Arc<dyn clones_kernel::Clock> = Arc::new(clones_kernel::SystemClock);
    let service = Arc::new(PgIngestService::new(db.clone(), clock.clone()));
    let cycle = Ingest(Ingestor::new(service, clock.clone(), sources));
    let options = WorkerOptions {
        name: "ingest-worker".into(),
        interval: Duration::from_secs(settings.interval_secs),
        once: settings.once,
    };
    clones_runtime::run_worker_process(&options, &cycle, db, clock).await?;
    Ok(())
}
