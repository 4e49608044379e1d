//! The ingest service over PostgreSQL: market memory reads, validated batch writes and the
//! run bookkeeping. Time comes only from the injected clock.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Cursor, Page, PageRequest};
use clones_market::{InstrumentKey, InstrumentKind, Timeframe};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::batch::{Batch, NewInstrument, NewPredictionMarket};
use crate::models::{
    BookRow, CandleRow, DefiRow, FundingRow, InstrumentRow, MarketRow, MidRow, OutcomePriceRow,
    RunRow,
};
use crate::views::{
    BookSnapshot, Candle, DefiFilter, DefiMetric, DefiSortKey, FundingRate, IngestionRun,
    Instrument, InstrumentFilter, Level, MarketOutcome, MarketSortKey, OutcomeInfo,
    PredictionMarket, Resolution, RunStatus, SourceHealth,
};
use crate::{IngestError, IngestService, MarketData, repo};

/// Most candles one range read returns (Hyperliquid's own cap).
pub const MAX_CANDLES: i64 = 5000;

/// [`IngestService`] over PostgreSQL.
#[derive(Clone)]
pub struct PgIngestService {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl PgIngestService {
    /// A service over `db`, reading time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// The clock runs are stamped with.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}

fn key_text(key: &str) -> Result<String, IngestError> {
    InstrumentKey::parse(key)
        .map(|parsed| parsed.to_string())
        .map_err(|_| IngestError::invalid_key(key))
}

fn corrupt(what: &str) -> IngestError {
    IngestError::Db(clones_db::DbError::Migration(format!(
        "stored {what} is malformed"
    )))
}

fn levels_json(levels: &[Level]) -> serde_json::Value {
    serde_json::Value::Array(
        levels
            .iter()
            .map(|(price, size)| {
                serde_json::json!([price.normalize().to_string(), size.normalize().to_string()])
            })
            .collect(),
    )
}

fn levels_from(value: &serde_json::Value) -> Result<Vec<Level>, IngestError> {
    let parse = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|text| Decimal::from_str(text).ok())
            .ok_or_else(|| corrupt("book level"))
    };
    value
        .as_array()
        .ok_or_else(|| corrupt("book"))?
        .iter()
        .map(|level| match level.as_array().map(Vec::as_slice) {
            Some([price, size]) => Ok((parse(price)?, parse(size)?)),
            _ => Err(corrupt("book level")),
        })
        .collect()
}

fn book_view(row: BookRow) -> Result<BookSnapshot, IngestError> {
    Ok(BookSnapshot {
        observed_at: row.observed_at,
        bids: levels_from(&row.bids)?,
        asks: levels_from(&row.asks)?,
    })
}

/// NUMERIC columns come back at their column scale (18 places); callers get the shortest form.
fn n(value: Decimal) -> Decimal {
    value.normalize()
}

fn candle_view(row: CandleRow) -> Candle {
    Candle {
        open_time: row.open_time,
        open: n(row.open),
        high: n(row.high),
        low: n(row.low),
        close: n(row.close),
        volume: n(row.volume),
        trades: row.trades,
    }
}

fn resolution(market: &MarketRow) -> Resolution {
    match (market.closed, &market.resolved_outcome) {
        (_, Some(_)) => Resolution::Resolved,
        (true, None) => Resolution::Closed,
        (false, None) => Resolution::Open,
    }
}

fn instrument_view(
    row: InstrumentRow,
    market: Option<MarketRow>,
) -> Result<Instrument, IngestError> {
    let kind = InstrumentKind::from_str(&row.kind).map_err(|_| corrupt("instrument kind"))?;
    let outcome = match (market, row.outcome.clone()) {
        (Some(market), Some(outcome)) => {
            let resolved_payout = market.resolved_outcome.as_ref().map(|winner| {
                if *winner == outcome {
                    Decimal::ONE
                } else {
                    Decimal::ZERO
                }
            });
            Some(OutcomeInfo {
                resolution: resolution(&market),
                market_id: market.market_id,
                question: market.question,
                outcome,
                resolved_payout,
            })
        }
        _ => None,
    };
    Ok(Instrument {
        key: row.key,
        venue: row.venue,
        kind,
        symbol: row.symbol,
        base: row.base,
        quote: row.quote,
        active: row.active,
        tick_size: row.tick_size.map(n),
        lot_size: row.lot_size.map(n),
        outcome,
        metadata: row.metadata,
        updated_at: row.updated_at,
    })
}

fn run_view(row: RunRow) -> IngestionRun {
    IngestionRun {
        id: row.id,
        status: if row.status == "succeeded" {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        },
        source: row.source,
        channel: row.channel,
        started_at: row.started_at,
        finished_at: row.finished_at,
        rows: row.rows_written,
        latency_ms: row.latency_ms,
        error: row.error,
    }
}

fn instrument_row(instrument: &NewInstrument, at: DateTime<Utc>) -> InstrumentRow {
    let (market_id, outcome) = instrument.market.clone().unzip();
    InstrumentRow {
        key: instrument.key.to_string(),
        venue: instrument.key.venue().to_string(),
        kind: instrument.key.kind().as_str().to_string(),
        symbol: instrument.key.symbol().to_string(),
        base: instrument.base.clone(),
        quote: instrument.quote.clone(),
        active: instrument.active,
        tick_size: instrument.tick_size,
        lot_size: instrument.lot_size,
        market_id,
        outcome,
        metadata: instrument.metadata.clone(),
        created_at: at,
        updated_at: at,
    }
}

fn market_row(market: &NewPredictionMarket, at: DateTime<Utc>) -> MarketRow {
    MarketRow {
        market_id: market.market_id.clone(),
        venue: market.venue.clone(),
        condition_id: market.condition_id.clone(),
        question: market.question.clone(),
        slug: market.slug.clone(),
        end_date: market.end_date,
        active: market.active,
        closed: market.closed,
        resolved_outcome: market.resolved_outcome.clone(),
        metadata: market.metadata.clone(),
        updated_at: at,
    }
}

/// Writes the batch; the caller holds the transaction.
fn write_batch(
    conn: &mut diesel::PgConnection,
    batch: &Batch,
    at: DateTime<Utc>,
) -> Result<usize, IngestError> {
    let mut written = 0;
    let markets: Vec<_> = batch.markets.iter().map(|m| market_row(m, at)).collect();
    written += repo::upsert_markets(conn, &markets)?;
    let instruments: Vec<_> = batch
        .instruments
        .iter()
        .map(|i| instrument_row(i, at))
        .collect();
    written += repo::upsert_instruments(conn, &instruments)?;
    let known: Vec<_> = batch
        .known_instruments
        .iter()
        .map(|i| instrument_row(i, at))
        .collect();
    written += repo::ensure_instruments(conn, &known)?;
    let candles: Vec<_> = batch
        .candles
        .iter()
        .map(|(key, timeframe, candle)| CandleRow {
            instrument_key: key.to_string(),
            timeframe: timeframe.as_str().to_string(),
            open_time: candle.open_time,
            open: candle.open,
            high: candle.high,
            low: candle.low,
            close: candle.close,
            volume: candle.volume,
            trades: candle.trades,
            ingested_at: at,
        })
        .collect();
    written += repo::upsert_candles(conn, &candles)?;
    let mids: Vec<_> = batch
        .mids
        .iter()
        .map(|(key, observed_at, price)| MidRow {
            instrument_key: key.to_string(),
            observed_at: *observed_at,
            price: *price,
        })
        .collect();
    written += repo::insert_mids(conn, &mids)?;
    let books: Vec<_> = batch
        .books
        .iter()
        .map(|(key, book)| BookRow {
            instrument_key: key.to_string(),
            observed_at: book.observed_at,
            bids: levels_json(&book.bids),
            asks: levels_json(&book.asks),
        })
        .collect();
    written += repo::insert_books(conn, &books)?;
    let funding: Vec<_> = batch
        .funding
        .iter()
        .map(|(key, rate)| FundingRow {
            instrument_key: key.to_string(),
            funding_time: rate.time,
            rate: rate.rate,
            premium: rate.premium,
        })
        .collect();
    written += repo::insert_funding(conn, &funding)?;
    let prices: Vec<_> = batch
        .outcome_prices
        .iter()
        .map(|(key, observed_at, price)| OutcomePriceRow {
            instrument_key: key.to_string(),
            observed_at: *observed_at,
            price: *price,
        })
        .collect();
    written += repo::insert_outcome_prices(conn, &prices)?;
    let defi: Vec<_> = batch
        .defi
        .iter()
        .map(|metric| DefiRow {
            subject: metric.subject.clone(),
            metric: metric.metric.clone(),
            metric_time: metric.time,
            value: metric.value,
        })
        .collect();
    written += repo::insert_defi(conn, &defi)?;
    Ok(written)
}

#[async_trait]
impl MarketData for PgIngestService {
    async fn instrument(&self, key: &str) -> Result<Option<Instrument>, IngestError> {
        let key = key_text(key)?;
        let found = self
            .db
            .run(move |conn| repo::find_instrument(conn, &key).map_err(IngestError::from))
            .await?;
        found
            .map(|(row, market)| instrument_view(row, market))
            .transpose()
    }

    async fn latest_mid(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(Decimal, DateTime<Utc>)>, IngestError> {
        let key = key_text(key)?;
        let row = self
            .db
            .run(move |conn| repo::latest_mid(conn, &key, as_of).map_err(IngestError::from))
            .await?;
        Ok(row.map(|row| (n(row.price), row.observed_at)))
    }

    async fn latest_book(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<BookSnapshot>, IngestError> {
        let key = key_text(key)?;
        let row = self
            .db
            .run(move |conn| repo::latest_book(conn, &key, as_of).map_err(IngestError::from))
            .await?;
        row.map(book_view).transpose()
    }

    async fn candles(
        &self,
        key: &str,
        timeframe: Timeframe,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Candle>, IngestError> {
        let key = key_text(key)?;
        if from >= to {
            return Ok(Vec::new());
        }
        let rows = self
            .db
            .run(move |conn| {
                repo::candles(conn, &key, timeframe.as_str(), from, to, MAX_CANDLES)
                    .map_err(IngestError::from)
            })
            .await?;
        Ok(rows.into_iter().map(candle_view).collect())
    }

    async fn candle_page(
        &self,
        key: &str,
        timeframe: Timeframe,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: PageRequest<DateTime<Utc>>,
    ) -> Result<Page<Candle, DateTime<Utc>>, IngestError> {
        let key = key_text(key)?;
        let rows = self
            .db
            .run(move |conn| {
                repo::candle_page(conn, &key, timeframe.as_str(), from, to, &page)
                    .map_err(IngestError::from)
            })
            .await?;
        Ok(Page::from_rows(rows, &page, |row| Cursor::at_key(row.open_time)).map(candle_view))
    }

    async fn latest_funding(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<FundingRate>, IngestError> {
        let key = key_text(key)?;
        let row = self
            .db
            .run(move |conn| repo::latest_funding(conn, &key, as_of).map_err(IngestError::from))
            .await?;
        Ok(row.map(|row| FundingRate {
            time: row.funding_time,
            rate: n(row.rate),
            premium: row.premium.map(n),
        }))
    }

    async fn outcome_price(
        &self,
        key: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(Decimal, DateTime<Utc>)>, IngestError> {
        let key = key_text(key)?;
        let row = self
            .db
            .run(move |conn| {
                repo::latest_outcome_price(conn, &key, as_of).map_err(IngestError::from)
            })
            .await?;
        Ok(row.map(|row| (n(row.price), row.observed_at)))
    }
}

#[async_trait]
impl IngestService for PgIngestService {
    async fn instruments(
        &self,
        filter: InstrumentFilter,
        page: PageRequest<String>,
    ) -> Result<Page<Instrument, String>, IngestError> {
        let request = page.clone();
        let rows = self
            .db
            .run(move |conn| {
                repo::list_instruments(
                    conn,
                    filter.venue.as_deref(),
                    filter.kind.map(InstrumentKind::as_str),
                    filter.active_only,
                    &request,
                )
                .map_err(IngestError::from)
            })
            .await?;
        Page::from_rows(rows, &page, |(row, _)| Cursor::at_key(row.key.clone()))
            .try_map(|(row, market)| instrument_view(row, market))
    }

    async fn prediction_markets(
        &self,
        closed: Option<bool>,
        page: PageRequest<MarketSortKey>,
    ) -> Result<Page<PredictionMarket, MarketSortKey>, IngestError> {
        let (markets, instruments) = self
            .db
            .run(move |conn| {
                let markets = repo::markets(conn, closed, &page)?;
                let markets = Page::from_rows(markets, &page, |market| {
                    Cursor::at_key((market.end_date, market.market_id.clone()))
                });
                let ids: Vec<String> = markets.items.iter().map(|m| m.market_id.clone()).collect();
                let instruments = repo::outcome_instruments(conn, &ids)?;
                Ok::<_, IngestError>((markets, instruments))
            })
            .await?;
        let mut outcomes: BTreeMap<String, Vec<MarketOutcome>> = BTreeMap::new();
        for instrument in instruments {
            if let (Some(market_id), Some(outcome)) = (instrument.market_id, instrument.outcome) {
                outcomes.entry(market_id).or_default().push(MarketOutcome {
                    outcome,
                    instrument_key: instrument.key,
                });
            }
        }
        Ok(markets.map(|market| PredictionMarket {
            outcomes: outcomes.remove(&market.market_id).unwrap_or_default(),
            market_id: market.market_id,
            venue: market.venue,
            condition_id: market.condition_id,
            question: market.question,
            slug: market.slug,
            end_date: market.end_date,
            active: market.active,
            closed: market.closed,
            resolved_outcome: market.resolved_outcome,
            updated_at: market.updated_at,
        }))
    }

    async fn defi_metrics(
        &self,
        filter: DefiFilter,
        page: PageRequest<DefiSortKey>,
    ) -> Result<Page<DefiMetric, DefiSortKey>, IngestError> {
        let request = page.clone();
        let rows = self
            .db
            .run(move |conn| {
                repo::defi(
                    conn,
                    filter.subject.as_deref(),
                    filter.metric.as_deref(),
                    filter.from,
                    filter.to,
                    &request,
                )
                .map_err(IngestError::from)
            })
            .await?;
        let page = Page::from_rows(rows, &page, |row| {
            Cursor::at_key((row.subject.clone(), row.metric.clone(), row.metric_time))
        });
        Ok(page.map(|row| DefiMetric {
            subject: row.subject,
            metric: row.metric,
            time: row.metric_time,
            value: n(row.value),
        }))
    }

    async fn store_batch(
        &self,
        source: &str,
        channel: &str,
        started_at: DateTime<Utc>,
        latency_ms: i64,
        batch: Batch,
    ) -> Result<IngestionRun, IngestError> {
        if let Err(problem) = batch.validate() {
            return self
                .record_failure(
                    source,
                    channel,
                    started_at,
                    latency_ms,
                    &format!("invalid_batch: {problem}"),
                )
                .await;
        }
        let at = self.clock.now();
        let run = RunRow {
            id: Uuid::new_v4(),
            source: source.to_string(),
            channel: channel.to_string(),
            started_at: started_at.min(at),
            finished_at: at,
            status: RunStatus::Succeeded.as_str().to_string(),
            rows_written: 0,
            latency_ms: latency_ms.max(0),
            error: None,
        };
        let written = self
            .db
            .transaction(move |conn| {
                let mut run = run;
                let rows = write_batch(conn, &batch, at)?;
                run.rows_written = i64::try_from(rows).unwrap_or(i64::MAX);
                repo::insert_run(conn, &run)?;
                Ok::<_, IngestError>(run)
            })
            .await;
        match written {
            Ok(run) => Ok(run_view(run)),
            Err(error) => {
                // The transaction rolled back, so nothing of the batch is stored. A constraint
                // the data broke is the source's failure; if even recording that fails, the
                // database is what failed.
                tracing::warn!(source, channel, %error, "batch rolled back");
                self.record_failure(
                    source,
                    channel,
                    started_at,
                    latency_ms,
                    &format!("store_failed: {error}"),
                )
                .await
                .map_err(|_| error)
            }
        }
    }

    async fn record_failure(
        &self,
        source: &str,
        channel: &str,
        started_at: DateTime<Utc>,
        latency_ms: i64,
        error: &str,
    ) -> Result<IngestionRun, IngestError> {
        let at = self.clock.now();
        let run = RunRow {
            id: Uuid::new_v4(),
            source: source.to_string(),
            channel: channel.to_string(),
            started_at: started_at.min(at),
            finished_at: at,
            status: RunStatus::Failed.as_str().to_string(),
            rows_written: 0,
            latency_ms: latency_ms.max(0),
            error: Some(error.chars().take(2000).collect()),
        };
        self.db
            .run(move |conn| {
                repo::insert_run(conn, &run)?;
                Ok::<_, IngestError>(run)
            })
            .await
            .map(run_view)
    }

    async fn runs(
        &self,
        source: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<IngestionRun>, IngestError> {
        let source = source.map(str::to_string);
        let rows = self
            .db
            .run(move |conn| repo::runs(conn, source.as_deref(), &page).map_err(IngestError::from))
            .await?;
        Ok(Page::from_rows(rows, &page, |row| Cursor::new(row.started_at, row.id)).map(run_view))
    }

    async fn source_health(&self) -> Result<Vec<SourceHealth>, IngestError> {
        let rows = self
            .db
            .run(|conn| repo::health(conn).map_err(IngestError::from))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| SourceHealth {
                source: row.source,
                channel: row.channel,
                last_run_at: row.last_run_at,
                last_status: if row.last_status == "succeeded" {
                    RunStatus::Succeeded
                } else {
                    RunStatus::Failed
                },
                last_success_at: row.last_success_at,
                consecutive_failures: row.consecutive_failures,
                last_error: row.last_error,
                last_rows: row.last_rows,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::key_text;

    proptest! {
        /// Every key the market grammar accepts addresses market memory unchanged.
        #[test]
        fn reads_accept_every_key_of_the_grammar(key in clones_market::arbitrary::key_text()) {
            prop_assert_eq!(key_text(&key).ok(), Some(key));
        }
    }

    #[test]
    fn refused_keys_keep_their_message() {
        let error = key_text("x:perp:A B").unwrap_err();
        assert_eq!(
            error.to_string(),
            "instrument key `x:perp:A B` is not `venue:kind:symbol`"
        );
    }
}
