//! The only module of ingest that touches its tables.
//!
//! Observations (mids, books, funding, outcome prices, DeFi metrics) are inserted with
//! `ON CONFLICT DO NOTHING`: a repeated fetch is a no-op and history is never overwritten.
//! Candles use `ON CONFLICT DO UPDATE` so a bar fetched while still forming is revised once it
//! closes. Instruments and prediction markets are descriptions and are refreshed in place.

use chrono::{DateTime, Utc};
use clones_db::keyset;
use clones_db::schema::{
    defi_metrics, ingestion_runs, market_books, market_candles, market_funding_rates,
    market_instruments, market_mids, prediction_markets, prediction_outcome_prices,
};
use clones_kernel::PageRequest;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel::upsert::excluded;
use diesel::{PgConnection, QueryResult};

use crate::models::{
    BookRow, CandleRow, DefiRow, FundingRow, InstrumentRow, MarketRow, MidRow, OutcomePriceRow,
    RunRow,
};

/// Rows per INSERT statement, well under PostgreSQL's 65535 bind parameters.
const CHUNK: usize = 1000;

pub(crate) fn upsert_markets(conn: &mut PgConnection, rows: &[MarketRow]) -> QueryResult<usize> {
    use prediction_markets as t;
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        written += diesel::insert_into(t::table)
            .values(chunk)
            .on_conflict(t::market_id)
            .do_update()
            .set((
                t::condition_id.eq(excluded(t::condition_id)),
                t::question.eq(excluded(t::question)),
                t::slug.eq(excluded(t::slug)),
                t::end_date.eq(excluded(t::end_date)),
                t::active.eq(excluded(t::active)),
                t::closed.eq(excluded(t::closed)),
                t::resolved_outcome.eq(excluded(t::resolved_outcome)),
                t::metadata.eq(excluded(t::metadata)),
                t::updated_at.eq(excluded(t::updated_at)),
            ))
            .execute(conn)?;
    }
    Ok(written)
}

pub(crate) fn upsert_instruments(
    conn: &mut PgConnection,
    rows: &[InstrumentRow],
) -> QueryResult<usize> {
    use market_instruments as t;
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        written += diesel::insert_into(t::table)
            .values(chunk)
            .on_conflict(t::key)
            .do_update()
            .set((
                t::base.eq(excluded(t::base)),
                t::quote.eq(excluded(t::quote)),
                t::active.eq(excluded(t::active)),
                t::tick_size.eq(excluded(t::tick_size)),
                t::lot_size.eq(excluded(t::lot_size)),
                t::market_id.eq(excluded(t::market_id)),
                t::outcome.eq(excluded(t::outcome)),
                t::metadata.eq(excluded(t::metadata)),
                t::updated_at.eq(excluded(t::updated_at)),
            ))
            .execute(conn)?;
    }
    Ok(written)
}

pub(crate) fn ensure_instruments(
    conn: &mut PgConnection,
    rows: &[InstrumentRow],
) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        written += diesel::insert_into(market_instruments::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(written)
}

pub(crate) fn upsert_candles(conn: &mut PgConnection, rows: &[CandleRow]) -> QueryResult<usize> {
    use market_candles as t;
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        written += diesel::insert_into(t::table)
            .values(chunk)
            .on_conflict((t::instrument_key, t::timeframe, t::open_time))
            .do_update()
            .set((
                t::open.eq(excluded(t::open)),
                t::high.eq(excluded(t::high)),
                t::low.eq(excluded(t::low)),
                t::close.eq(excluded(t::close)),
                t::volume.eq(excluded(t::volume)),
                t::trades.eq(excluded(t::trades)),
                t::ingested_at.eq(excluded(t::ingested_at)),
            ))
            .execute(conn)?;
    }
    Ok(written)
}

macro_rules! insert_new {
    ($name:ident, $table:ident, $row:ty) => {
        pub(crate) fn $name(conn: &mut PgConnection, rows: &[$row]) -> QueryResult<usize> {
            let mut written = 0;
            for chunk in rows.chunks(CHUNK) {
                written += diesel::insert_into($table::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(conn)?;
            }
            Ok(written)
        }
    };
}

insert_new!(insert_mids, market_mids, MidRow);
insert_new!(insert_books, market_books, BookRow);
insert_new!(insert_funding, market_funding_rates, FundingRow);
insert_new!(
    insert_outcome_prices,
    prediction_outcome_prices,
    OutcomePriceRow
);
insert_new!(insert_defi, defi_metrics, DefiRow);

pub(crate) fn insert_run(conn: &mut PgConnection, row: &RunRow) -> QueryResult<()> {
    diesel::insert_into(ingestion_runs::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find_instrument(
    conn: &mut PgConnection,
    key: &str,
) -> QueryResult<Option<(InstrumentRow, Option<MarketRow>)>> {
    market_instruments::table
        .left_join(prediction_markets::table)
        .filter(market_instruments::key.eq(key))
        .select((InstrumentRow::as_select(), Option::<MarketRow>::as_select()))
        .first(conn)
        .optional()
}

pub(crate) fn list_instruments(
    conn: &mut PgConnection,
    venue: Option<&str>,
    kind: Option<&str>,
    active_only: bool,
    page: &PageRequest<String>,
) -> QueryResult<Vec<(InstrumentRow, Option<MarketRow>)>> {
    let mut query = market_instruments::table
        .left_join(prediction_markets::table)
        .select((InstrumentRow::as_select(), Option::<MarketRow>::as_select()))
        .order(market_instruments::key.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = page.after() {
        query = query.filter(market_instruments::key.gt(after.clone()));
    }
    if let Some(venue) = venue {
        query = query.filter(market_instruments::venue.eq(venue.to_string()));
    }
    if let Some(kind) = kind {
        query = query.filter(market_instruments::kind.eq(kind.to_string()));
    }
    if active_only {
        query = query.filter(market_instruments::active.eq(true));
    }
    query.load(conn)
}

pub(crate) fn latest_mid(
    conn: &mut PgConnection,
    key: &str,
    as_of: DateTime<Utc>,
) -> QueryResult<Option<MidRow>> {
    market_mids::table
        .filter(market_mids::instrument_key.eq(key))
        .filter(market_mids::observed_at.le(as_of))
        .order(market_mids::observed_at.desc())
        .select(MidRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn latest_book(
    conn: &mut PgConnection,
    key: &str,
    as_of: DateTime<Utc>,
) -> QueryResult<Option<BookRow>> {
    market_books::table
        .filter(market_books::instrument_key.eq(key))
        .filter(market_books::observed_at.le(as_of))
        .order(market_books::observed_at.desc())
        .select(BookRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn latest_funding(
    conn: &mut PgConnection,
    key: &str,
    as_of: DateTime<Utc>,
) -> QueryResult<Option<FundingRow>> {
    market_funding_rates::table
        .filter(market_funding_rates::instrument_key.eq(key))
        .filter(market_funding_rates::funding_time.le(as_of))
        .order(market_funding_rates::funding_time.desc())
        .select(FundingRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn latest_outcome_price(
    conn: &mut PgConnection,
    key: &str,
    as_of: DateTime<Utc>,
) -> QueryResult<Option<OutcomePriceRow>> {
    prediction_outcome_prices::table
        .filter(prediction_outcome_prices::instrument_key.eq(key))
        .filter(prediction_outcome_prices::observed_at.le(as_of))
        .order(prediction_outcome_prices::observed_at.desc())
        .select(OutcomePriceRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn candles(
    conn: &mut PgConnection,
    key: &str,
    timeframe: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<CandleRow>> {
    market_candles::table
        .filter(market_candles::instrument_key.eq(key))
        .filter(market_candles::timeframe.eq(timeframe))
        .filter(market_candles::open_time.ge(from))
        .filter(market_candles::open_time.lt(to))
        .order(market_candles::open_time.asc())
        .limit(limit)
        .select(CandleRow::as_select())
        .load(conn)
}

/// One page of [`candles`]: bars after the cursor's open time, one more than the limit.
pub(crate) fn candle_page(
    conn: &mut PgConnection,
    key: &str,
    timeframe: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    page: &PageRequest<DateTime<Utc>>,
) -> QueryResult<Vec<CandleRow>> {
    let mut query = market_candles::table
        .filter(market_candles::instrument_key.eq(key))
        .filter(market_candles::timeframe.eq(timeframe))
        .filter(market_candles::open_time.ge(from))
        .filter(market_candles::open_time.lt(to))
        .into_boxed();
    if let Some(after) = page.after() {
        query = query.filter(market_candles::open_time.gt(*after));
    }
    query
        .order(market_candles::open_time.asc())
        .limit(page.fetch_limit())
        .select(CandleRow::as_select())
        .load(conn)
}

pub(crate) fn markets(
    conn: &mut PgConnection,
    closed: Option<bool>,
    page: &PageRequest<(Option<DateTime<Utc>>, String)>,
) -> QueryResult<Vec<MarketRow>> {
    let mut query = prediction_markets::table
        .select(MarketRow::as_select())
        .order((
            prediction_markets::end_date.asc().nulls_last(),
            prediction_markets::market_id.asc(),
        ))
        .limit(page.fetch_limit())
        .into_boxed();
    // Markets without an end date sort last, so after a dated one come later dates, the same
    // date with a greater id, and every undated market.
    match page.after() {
        Some((Some(end), id)) => {
            query = query.filter(
                prediction_markets::end_date
                    .gt(*end)
                    .or(prediction_markets::end_date
                        .eq(*end)
                        .and(prediction_markets::market_id.gt(id.clone())))
                    .or(prediction_markets::end_date.is_null()),
            );
        }
        Some((None, id)) => {
            query = query
                .filter(prediction_markets::end_date.is_null())
                .filter(prediction_markets::market_id.gt(id.clone()));
        }
        None => {}
    }
    if let Some(closed) = closed {
        query = query.filter(prediction_markets::closed.eq(closed));
    }
    query.load(conn)
}

pub(crate) fn outcome_instruments(
    conn: &mut PgConnection,
    market_ids: &[String],
) -> QueryResult<Vec<InstrumentRow>> {
    market_instruments::table
        .filter(market_instruments::market_id.eq_any(market_ids))
        .order(market_instruments::key.asc())
        .select(InstrumentRow::as_select())
        .load(conn)
}

pub(crate) fn defi(
    conn: &mut PgConnection,
    subject: Option<&str>,
    metric: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: &PageRequest<(String, String, DateTime<Utc>)>,
) -> QueryResult<Vec<DefiRow>> {
    let mut query = defi_metrics::table
        .select(DefiRow::as_select())
        .order((
            defi_metrics::subject.asc(),
            defi_metrics::metric.asc(),
            defi_metrics::metric_time.desc(),
        ))
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some((after_subject, after_metric, after_time)) = page.after() {
        // The primary key's order, with time descending inside one subject and metric.
        query = query.filter(
            defi_metrics::subject
                .gt(after_subject.clone())
                .or(defi_metrics::subject.eq(after_subject.clone()).and(
                    defi_metrics::metric
                        .gt(after_metric.clone())
                        .or(defi_metrics::metric
                            .eq(after_metric.clone())
                            .and(defi_metrics::metric_time.lt(*after_time))),
                )),
        );
    }
    if let Some(subject) = subject {
        query = query.filter(defi_metrics::subject.eq(subject.to_string()));
    }
    if let Some(metric) = metric {
        query = query.filter(defi_metrics::metric.eq(metric.to_string()));
    }
    if let Some(from) = from {
        query = query.filter(defi_metrics::metric_time.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(defi_metrics::metric_time.lt(to));
    }
    query.load(conn)
}

pub(crate) fn runs(
    conn: &mut PgConnection,
    source: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<RunRow>> {
    let mut query = ingestion_runs::table
        .select(RunRow::as_select())
        .order((ingestion_runs::started_at.desc(), ingestion_runs::id.desc()))
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(key) = page.after() {
        query = query.filter(keyset::older_than(
            ingestion_runs::started_at,
            ingestion_runs::id,
            *key,
        ));
    }
    if let Some(source) = source {
        query = query.filter(ingestion_runs::source.eq(source.to_string()));
    }
    query.load(conn)
}

#[derive(Debug, QueryableByName)]
pub(crate) struct HealthRow {
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Timestamptz)]
    pub last_run_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub last_status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_success_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub consecutive_failures: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub last_rows: i64,
}

/// Per source and channel: the latest run, the latest success, failures since, the latest
/// error. Every lookup is an index scan of `ingestion_runs_channel_idx`.
pub(crate) fn health(conn: &mut PgConnection) -> QueryResult<Vec<HealthRow>> {
    diesel::sql_query(
        "WITH RECURSIVE channels AS (
             (SELECT source, channel FROM ingestion_runs ORDER BY source, channel LIMIT 1)
             UNION ALL
             SELECT next.source, next.channel FROM channels c
             CROSS JOIN LATERAL (
                 SELECT r.source, r.channel FROM ingestion_runs r
                 WHERE (r.source, r.channel) > (c.source, c.channel)
                 ORDER BY r.source, r.channel LIMIT 1
             ) next
         )
         SELECT c.source, c.channel,
                latest.started_at AS last_run_at,
                latest.status AS last_status,
                success.finished_at AS last_success_at,
                (SELECT count(*) FROM ingestion_runs f
                  WHERE f.source = c.source AND f.channel = c.channel AND f.status = 'failed'
                    AND f.started_at > coalesce(success.started_at, '-infinity')) AS consecutive_failures,
                (SELECT f.error FROM ingestion_runs f
                  WHERE f.source = c.source AND f.channel = c.channel AND f.status = 'failed'
                  ORDER BY f.started_at DESC LIMIT 1) AS last_error,
                latest.rows_written AS last_rows
         FROM channels c
         CROSS JOIN LATERAL (
             SELECT r.started_at, r.status, r.rows_written FROM ingestion_runs r
             WHERE r.source = c.source AND r.channel = c.channel
             ORDER BY r.started_at DESC, r.finished_at DESC LIMIT 1
         ) latest
         LEFT JOIN LATERAL (
             SELECT r.started_at, r.finished_at FROM ingestion_runs r
             WHERE r.source = c.source AND r.channel = c.channel AND r.status = 'succeeded'
             ORDER BY r.started_at DESC LIMIT 1
         ) success ON true
         ORDER BY c.source, c.channel",
    )
    .load(conn)
}
