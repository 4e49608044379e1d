//! [`MarketFeed`] over market memory: the ingest context's [`MarketData`] reads, translated
//! to what execution needs. This is the only place prop-engine meets market memory, and it
//! goes through ingest's read trait, never its tables.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_ingest::{MarketData, Resolution};

use crate::feed::{
    Book, FeedError, FundingRate, InstrumentInfo, Level, MarketFeed, MarketQuote, OutcomeResolution,
};

/// Market memory as a [`MarketFeed`].
#[derive(Clone)]
pub struct MarketMemoryFeed {
    market: Arc<dyn MarketData>,
}

impl MarketMemoryFeed {
    /// A feed reading `market`.
    pub fn new(market: Arc<dyn MarketData>) -> Self {
        Self { market }
    }
}

fn unavailable(error: clones_ingest::IngestError) -> FeedError {
    FeedError(error.to_string())
}

fn levels(side: Vec<clones_ingest::Level>) -> Vec<Level> {
    side.into_iter()
        .map(|(price, size)| Level { price, size })
        .collect()
}

#[async_trait]
impl MarketFeed for MarketMemoryFeed {
    async fn quote(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<MarketQuote>, FeedError> {
        // Outcome tokens may only have outcome prices (Gamma) and no mids (CLOB).
        let mid = match self
            .market
            .latest_mid(instrument, as_of)
            .await
            .map_err(unavailable)?
        {
            Some(mid) => Some(mid),
            None => self
                .market
                .outcome_price(instrument, as_of)
                .await
                .map_err(unavailable)?,
        };
        let Some((mid, mid_at)) = mid else {
            return Ok(None);
        };
        let book = self
            .market
            .latest_book(instrument, as_of)
            .await
            .map_err(unavailable)?
            .map(|book| Book {
                observed_at: book.observed_at,
                bids: levels(book.bids),
                asks: levels(book.asks),
            });
        Ok(Some(MarketQuote { mid, mid_at, book }))
    }

    async fn instrument(&self, key: &str) -> Result<Option<InstrumentInfo>, FeedError> {
        Ok(self
            .market
            .instrument(key)
            .await
            .map_err(unavailable)?
            .map(|instrument| InstrumentInfo {
                key: instrument.key,
                kind: instrument.kind,
                active: instrument.active,
            }))
    }

    async fn funding_rate(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, FeedError> {
        let Some(funding) = self
            .market
            .latest_funding(instrument, as_of)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        // Funding is paid on the mark at the funding time; without a price then, it cannot be
        // computed and is left for a later cycle.
        let mark = self
            .market
            .latest_mid(instrument, funding.time)
            .await
            .map_err(unavailable)?;
        Ok(mark.map(|(mark, _)| FundingRate {
            at: funding.time,
            rate: funding.rate,
            mark,
        }))
    }

    async fn outcome_resolution(
        &self,
        instrument: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<OutcomeResolution>, FeedError> {
        let Some(found) = self
            .market
            .instrument(instrument)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let Some(outcome) = found.outcome else {
            return Ok(None);
        };
        // Market memory knows that a market resolved, not the exact instant: the settlement
        // is dated when it was first seen, never after the instant asked about.
        Ok(match (outcome.resolution, outcome.resolved_payout) {
            (Resolution::Resolved, Some(payout)) => Some(OutcomeResolution {
                resolved_at: found.updated_at.min(as_of),
                payout,
            }),
            _ => None,
        })
    }
}
