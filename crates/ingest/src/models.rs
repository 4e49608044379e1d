//! Rows of the tables ingest owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    defi_metrics, ingestion_runs, market_books, market_candles, market_funding_rates,
    market_instruments, market_mids, prediction_markets, prediction_outcome_prices,
};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = market_instruments, check_for_backend(diesel::pg::Pg))]
pub(crate) struct InstrumentRow {
    pub key: String,
    pub venue: String,
    pub kind: String,
    pub symbol: String,
    pub base: Option<String>,
    pub quote: Option<String>,
    pub active: bool,
    pub tick_size: Option<Decimal>,
    pub lot_size: Option<Decimal>,
    pub market_id: Option<String>,
    pub outcome: Option<String>,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prediction_markets, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MarketRow {
    pub market_id: String,
    pub venue: String,
    pub condition_id: Option<String>,
    pub question: String,
    pub slug: Option<String>,
    pub end_date: Option<DateTime<Utc>>,
    pub active: bool,
    pub closed: bool,
    pub resolved_outcome: Option<String>,
    pub metadata: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = market_candles, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CandleRow {
    pub instrument_key: String,
    pub timeframe: String,
    pub open_time: DateTime<Utc>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
    pub trades: Option<i64>,
    pub ingested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = market_mids, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MidRow {
    pub instrument_key: String,
    pub observed_at: DateTime<Utc>,
    pub price: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = market_books, check_for_backend(diesel::pg::Pg))]
pub(crate) struct BookRow {
    pub instrument_key: String,
    pub observed_at: DateTime<Utc>,
    pub bids: serde_json::Value,
    pub asks: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = market_funding_rates, check_for_backend(diesel::pg::Pg))]
pub(crate) struct FundingRow {
    pub instrument_key: String,
    pub funding_time: DateTime<Utc>,
    pub rate: Decimal,
    pub premium: Option<Decimal>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prediction_outcome_prices, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OutcomePriceRow {
    pub instrument_key: String,
    pub observed_at: DateTime<Utc>,
    pub price: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = defi_metrics, check_for_backend(diesel::pg::Pg))]
pub(crate) struct DefiRow {
    pub subject: String,
    pub metric: String,
    pub metric_time: DateTime<Utc>,
    pub value: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ingestion_runs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RunRow {
    pub id: Uuid,
    pub source: String,
    pub channel: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub status: String,
    pub rows_written: i64,
    pub latency_ms: i64,
    pub error: Option<String>,
}
