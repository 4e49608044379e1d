//! One ingestion cycle: every enabled source, each of its channels in order, each channel's
//! batch stored (or its failure recorded) as one run. Sources run concurrently; a source that
//! fails, or even panics, never stops the others.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_kernel::Clock;
use tokio::task::JoinSet;

use crate::{Batch, IngestService, IngestionRun, RunStatus, SourceError};

/// A market-data source: a fixed list of channels, each fetched into one [`Batch`].
#[async_trait]
pub trait Source: Send + Sync {
    /// The source's name on its runs (`hyperliquid`, `polymarket`, `defillama`, `replay`).
    fn name(&self) -> &'static str;

    /// The channels, in the order they must run (e.g. instrument metadata before prices).
    fn channels(&self) -> Vec<&'static str>;

    /// Fetches one channel and validates the whole response into a batch. `now` is the
    /// cycle's clock reading, for observations the venue does not timestamp.
    ///
    /// # Errors
    /// Any [`SourceError`]; nothing of the channel is stored then.
    async fn fetch(&self, channel: &str, now: DateTime<Utc>) -> Result<Batch, SourceError>;

    /// Called after a channel's batch was stored, so stateful sources (which tokens to poll,
    /// where replay stopped) advance only on success.
    fn committed(&self, _channel: &str, _now: DateTime<Utc>) {}
}

/// What a cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleOutcome {
    /// Every run recorded, in no particular order across sources.
    pub runs: Vec<IngestionRun>,
}

impl CycleOutcome {
    /// Runs that succeeded.
    pub fn succeeded(&self) -> usize {
        self.runs
            .iter()
            .filter(|run| run.status == RunStatus::Succeeded)
            .count()
    }

    /// Runs that failed.
    pub fn failed(&self) -> usize {
        self.runs.len() - self.succeeded()
    }

    /// Rows written by the cycle.
    pub fn rows(&self) -> u64 {
        self.runs
            .iter()
            .map(|run| u64::try_from(run.rows).unwrap_or_default())
            .sum()
    }
}

/// Runs sources against an [`IngestService`].
#[derive(Clone)]
pub struct Ingestor {
    service: Arc<dyn IngestService>,
    clock: Arc<dyn Clock>,
    sources: Vec<Arc<dyn Source>>,
}

impl Ingestor {
    /// An ingestor writing through `service`, stamping fetches with `clock`.
    pub fn new(
        service: Arc<dyn IngestService>,
        clock: Arc<dyn Clock>,
        sources: Vec<Arc<dyn Source>>,
    ) -> Self {
        Self {
            service,
            clock,
            sources,
        }
    }

    /// The sources' names.
    pub fn source_names(&self) -> Vec<&'static str> {
        self.sources.iter().map(|source| source.name()).collect()
    }

    /// Runs one cycle of every source. Database failures while recording are logged and the
    /// cycle carries on; the returned runs are those recorded.
    pub async fn run_once(&self) -> CycleOutcome {
        let mut tasks = JoinSet::new();
        for source in &self.sources {
            let source = source.clone();
            let service = self.service.clone();
            let clock = self.clock.clone();
            tasks.spawn(async move {
                run_source(source.as_ref(), service.as_ref(), clock.as_ref()).await
            });
        }
        let mut outcome = CycleOutcome::default();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(runs) => outcome.runs.extend(runs),
                Err(error) => tracing::error!(%error, "an ingestion source task aborted"),
            }
        }
        outcome
    }
}

async fn run_source(
    source: &dyn Source,
    service: &dyn IngestService,
    clock: &dyn Clock,
) -> Vec<IngestionRun> {
    let mut runs = Vec::new();
    for channel in source.channels() {
        let started_at = clock.now();
        let timer = Instant::now();
        let fetched = source.fetch(channel, started_at).await;
        let elapsed = || i64::try_from(timer.elapsed().as_millis()).unwrap_or(i64::MAX);
        let recorded = match fetched {
            Ok(batch) => {
                let stored = service
                    .store_batch(source.name(), channel, started_at, elapsed(), batch)
                    .await;
                if let Ok(run) = &stored
                    && run.status == RunStatus::Succeeded
                {
                    source.committed(channel, started_at);
                }
                stored
            }
            Err(error) => {
                tracing::warn!(source = source.name(), channel, code = error.code(), %error, "fetch failed");
                service
                    .record_failure(
                        source.name(),
                        channel,
                        started_at,
                        elapsed(),
                        &format!("{}: {error}", error.code()),
                    )
                    .await
            }
        };
        match recorded {
            Ok(run) => {
                tracing::info!(
                    source = source.name(),
                    channel,
                    status = run.status.as_str(),
                    rows = run.rows,
                    latency_ms = run.latency_ms,
                    "ingestion run"
                );
                runs.push(run);
            }
            Err(error) => {
                tracing::error!(source = source.name(), channel, %error, "run not recorded");
            }
        }
    }
    runs
}
