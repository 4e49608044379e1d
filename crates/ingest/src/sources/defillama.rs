//! DefiLlama TVL: `GET {base}/protocol/{slug}` (the protocol's `tvl` series) and
//! `GET {base}/v2/historicalChainTvl/{chain}` (`[{date, tvl}]`). Dates are Unix seconds and
//! values JSON numbers, read exactly from their text.
//!
//! Channels: `protocol-tvl` and `chain-tvl`. Each cycle stores the points within the
//! lookback; older ones are already stored and would be no-ops.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::error::{SourceError, malformed};
use crate::http::{HttpClient, endpoint};
use crate::parse::{array, decimal_field, field, object, seconds};
use crate::{Batch, DefiMetric, Source};

/// What to fetch from DefiLlama.
#[derive(Debug, Clone)]
pub struct DefiLlamaConfig {
    /// API base, e.g. `https://api.llama.fi`.
    pub base_url: Url,
    /// Protocol slugs (`aave`, `uniswap`, …).
    pub protocols: Vec<String>,
    /// Chain names (`Ethereum`, `Arbitrum`, …).
    pub chains: Vec<String>,
    /// How far back points are stored each cycle.
    pub lookback: Duration,
}

/// The DefiLlama source.
pub struct DefiLlamaSource {
    config: DefiLlamaConfig,
    http: HttpClient,
}

impl DefiLlamaSource {
    /// A source over `http`.
    pub fn new(config: DefiLlamaConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    fn points(
        &self,
        series: &serde_json::Value,
        value_field: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DefiMetric>, SourceError> {
        let since = now - self.config.lookback;
        let mut metrics = Vec::new();
        for point in array(series, subject)? {
            let point = object(point, subject)?;
            let time = seconds(field(point, "date", subject)?, &format!("{subject}.date"))?;
            let value = decimal_field(point, value_field, subject)?;
            if value.is_sign_negative() {
                return Err(malformed(format!("{subject}: negative TVL at {time}")));
            }
            if time >= since && time <= now {
                metrics.push(DefiMetric {
                    subject: subject.to_string(),
                    metric: "tvl".into(),
                    time,
                    value,
                });
            }
        }
        Ok(metrics)
    }

    async fn protocols(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        for slug in &self.config.protocols {
            let url = endpoint(&self.config.base_url, &format!("protocol/{slug}"))?;
            let value = self.http.get_json(&url).await?;
            let protocol = object(&value, "protocol")?;
            let subject = format!("protocol:{slug}");
            batch.defi.extend(self.points(
                field(protocol, "tvl", &subject)?,
                "totalLiquidityUSD",
                &subject,
                now,
            )?);
        }
        Ok(batch)
    }

    async fn chains(&self, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        let mut batch = Batch::default();
        for chain in &self.config.chains {
            let url = endpoint(
                &self.config.base_url,
                &format!("v2/historicalChainTvl/{chain}"),
            )?;
            let value = self.http.get_json(&url).await?;
            let subject = format!("chain:{chain}");
            batch
                .defi
                .extend(self.points(&value, "tvl", &subject, now)?);
        }
        Ok(batch)
    }
}

#[async_trait]
impl Source for DefiLlamaSource {
    fn name(&self) -> &'static str {
        "defillama"
    }

    fn channels(&self) -> Vec<&'static str> {
        vec!["protocol-tvl", "chain-tvl"]
    }

    async fn fetch(&self, channel: &str, now: DateTime<Utc>) -> Result<Batch, SourceError> {
        match channel {
            "protocol-tvl" => self.protocols(now).await,
            "chain-tvl" => self.chains(now).await,
            other => Err(SourceError::Config(format!("unknown channel {other}"))),
        }
    }
}
