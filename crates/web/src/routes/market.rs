//! Market memory and ingestion: assets with their candles, mids and books, prediction markets,
//! DeFi metrics (signed-in users), and ingestion runs and source health (admins, or service
//! tokens with `health:read`).
//!
//! Instrument keys (`venue:kind:symbol`) go in the path percent-encoded: at least `/` must be
//! sent as `%2F` (`hyperliquid:spot:PURR%2FUSDC`); `:` may be sent as is or as `%3A`.

use super::ServiceConfig;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use clones_ingest::{
    BookSnapshot, Candle, DefiFilter, DefiMetric, DefiSortKey, IngestionRun, Instrument,
    InstrumentFilter, MarketSortKey, PredictionMarket, SourceHealth,
};
use clones_market::{InstrumentKey, InstrumentKind, Timeframe};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::extract::{AuthUser, OperatorCaller, Query};
use crate::paging::{BAD_PAGE, PageParams, Paged, next_cursor, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(assets)
        .service(asset)
        .service(candles)
        .service(mid)
        .service(book)
        .service(runs)
        .service(health)
        .service(polymarket_markets)
        .service(defillama_metrics);
}

fn no_data(what: &str, key: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "no_market_data",
        format!("no {what} for {key}"),
    )
}

/// "Latest" when the caller gave no time.
fn as_of(value: Option<DateTime<Utc>>) -> DateTime<Utc> {
    value.unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Filters of the asset list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    /// Only this venue (`hyperliquid`, `polymarket`, `replay`, …).
    pub venue: Option<String>,
    /// Only this kind.
    pub kind: Option<InstrumentKind>,
    /// Only active instruments.
    #[serde(default)]
    pub active: bool,
}

paged_response!(
    /// Instruments.
    AssetList,
    Instrument,
    "Ordered by key."
);

/// Instruments in market memory, one page at a time.
#[utoipa::path(tag = "market", params(AssetQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = AssetList),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/assets")]
pub async fn assets(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: Paged<AssetQuery, String>,
) -> Result<web::Json<AssetList>, ApiError> {
    let Paged { page, filter } = query;
    let page = state
        .ingest
        .instruments(
            InstrumentFilter {
                venue: filter.venue,
                kind: filter.kind,
                active_only: filter.active,
            },
            page,
        )
        .await?;
    Ok(web::Json(page.into()))
}

/// One instrument (for outcome tokens: market, resolution and payout).
#[utoipa::path(tag = "market", params(("key" = String, Path, description = "instrument key, percent-encoded")), security(("user_bearer" = [])), responses(
    (status = 200, body = Instrument),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/assets/{key}")]
pub async fn asset(
    state: web::Data<AppState>,
    _user: AuthUser,
    key: web::Path<String>,
) -> Result<web::Json<Instrument>, ApiError> {
    state
        .ingest
        .instrument(&key)
        .await?
        .map(web::Json)
        .ok_or_else(|| clones_ingest::IngestError::InstrumentNotFound.into())
}

/// Range of a candle read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CandleQuery {
    /// `1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d 3d 1w 1M`.
    #[param(value_type = String)]
    pub timeframe: Timeframe,
    /// First bar's earliest open time (inclusive, RFC 3339).
    pub from: DateTime<Utc>,
    /// Open time bound (exclusive, RFC 3339).
    pub to: DateTime<Utc>,
}

/// Bars of one instrument.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CandleList {
    /// The instrument.
    pub key: String,
    /// The timeframe.
    pub timeframe: String,
    /// Bars opening in `[from, to)`, ascending.
    pub items: Vec<Candle>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Candles opening in `[from, to)`, ascending, one page at a time.
#[utoipa::path(tag = "market", params(("key" = String, Path, description = "instrument key, percent-encoded"), CandleQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = CandleList),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/assets/{key}/candles")]
pub async fn candles(
    state: web::Data<AppState>,
    _user: AuthUser,
    key: web::Path<String>,
    query: Paged<CandleQuery, DateTime<Utc>>,
) -> Result<web::Json<CandleList>, ApiError> {
    let Paged { page, filter } = query;
    let page = state
        .ingest
        .candle_page(&key, filter.timeframe, filter.from, filter.to, page)
        .await?;
    Ok(web::Json(CandleList {
        key: key.into_inner(),
        timeframe: filter.timeframe.to_string(),
        items: page.items,
        next_cursor: next_cursor(page.next_cursor),
    }))
}

/// An "as of" read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The latest observation at or before this time (RFC 3339); default: the latest.
    pub as_of: Option<DateTime<Utc>>,
}

/// A mid price.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MidView {
    /// The instrument.
    pub key: String,
    /// The mid (for outcome tokens, the 0..1 price).
    #[schema(value_type = String)]
    pub price: Decimal,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
}

/// The latest mid at or before `asOf` (outcome tokens: their latest price).
#[utoipa::path(tag = "market", params(("key" = String, Path, description = "instrument key, percent-encoded"), AsOfQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = MidView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no observation", body = Problem, content_type = "application/problem+json"),
))]
#[get("/assets/{key}/mid")]
pub async fn mid(
    state: web::Data<AppState>,
    _user: AuthUser,
    key: web::Path<String>,
    query: Query<AsOfQuery>,
) -> Result<web::Json<MidView>, ApiError> {
    let at = as_of(query.as_of);
    let parsed =
        InstrumentKey::parse(&key).map_err(|_| clones_ingest::IngestError::invalid_key(&key))?;
    let found = if parsed.is_outcome() {
        state.ingest.outcome_price(&key, at).await?
    } else {
        state.ingest.latest_mid(&key, at).await?
    };
    let (price, observed_at) = found.ok_or_else(|| no_data("mid", &key))?;
    Ok(web::Json(MidView {
        key: key.into_inner(),
        price,
        observed_at,
    }))
}

/// The latest book snapshot at or before `asOf`.
#[utoipa::path(tag = "market", params(("key" = String, Path, description = "instrument key, percent-encoded"), AsOfQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = BookSnapshot),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no snapshot", body = Problem, content_type = "application/problem+json"),
))]
#[get("/assets/{key}/book")]
pub async fn book(
    state: web::Data<AppState>,
    _user: AuthUser,
    key: web::Path<String>,
    query: Query<AsOfQuery>,
) -> Result<web::Json<BookSnapshot>, ApiError> {
    state
        .ingest
        .latest_book(&key, as_of(query.as_of))
        .await?
        .map(web::Json)
        .ok_or_else(|| no_data("book", &key))
}

/// Which runs to list, besides the page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Only this source.
    pub source: Option<String>,
}

paged_response!(
    /// Ingestion runs.
    RunList,
    IngestionRun,
    "Newest first by (start, id)."
);

/// Ingestion runs, newest first, one page at a time. Admins, or service tokens with
/// `health:read`.
#[utoipa::path(tag = "ingestion", params(RunQuery, PageParams), security(("user_bearer" = []), ("service_bearer" = [])), responses(
    (status = 200, body = RunList),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/ingestion/runs")]
pub async fn runs(
    state: web::Data<AppState>,
    _caller: OperatorCaller,
    query: Paged<RunQuery>,
) -> Result<web::Json<RunList>, ApiError> {
    let page = state
        .ingest
        .runs(query.filter.source.as_deref(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// Source health.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestionHealth {
    /// True when no channel's latest run failed.
    pub healthy: bool,
    /// Per source and channel.
    pub channels: Vec<SourceHealth>,
}

/// Per source and channel: latest run, latest success, consecutive failures, latest error.
/// Admins, or service tokens with `health:read`.
#[utoipa::path(tag = "ingestion", security(("user_bearer" = []), ("service_bearer" = [])), responses(
    (status = 200, body = IngestionHealth),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/ingestion/health")]
pub async fn health(
    state: web::Data<AppState>,
    _caller: OperatorCaller,
) -> Result<web::Json<IngestionHealth>, ApiError> {
    let channels = state.ingest.source_health().await?;
    Ok(web::Json(IngestionHealth {
        healthy: channels.iter().all(|c| c.consecutive_failures == 0),
        channels,
    }))
}

/// Which markets to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MarketQuery {
    /// Only closed (true) or open (false) markets.
    pub closed: Option<bool>,
}

paged_response!(
    /// Prediction markets.
    MarketList,
    PredictionMarket,
    "Soonest end first (undated last), then by market id."
);

/// Tracked Polymarket markets with their outcome instruments, one page at a time.
#[utoipa::path(tag = "market", params(MarketQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = MarketList),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/polymarket/markets")]
pub async fn polymarket_markets(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: Paged<MarketQuery, MarketSortKey>,
) -> Result<web::Json<MarketList>, ApiError> {
    let page = state
        .ingest
        .prediction_markets(query.filter.closed, query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// Which metrics to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricQuery {
    /// `protocol:<slug>` or `chain:<name>`.
    pub subject: Option<String>,
    /// e.g. `tvl`.
    pub metric: Option<String>,
    /// Earliest time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Time bound (exclusive).
    pub to: Option<DateTime<Utc>>,
}

paged_response!(
    /// DeFi metrics.
    MetricList,
    DefiMetric,
    "By subject and metric, newest first within each."
);

/// DefiLlama metrics (protocol and chain TVL), one page at a time.
#[utoipa::path(tag = "market", params(MetricQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = MetricList),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/defillama/metrics")]
pub async fn defillama_metrics(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: Paged<MetricQuery, DefiSortKey>,
) -> Result<web::Json<MetricList>, ApiError> {
    let Paged { page, filter } = query;
    let page = state
        .ingest
        .defi_metrics(
            DefiFilter {
                subject: filter.subject,
                metric: filter.metric,
                from: filter.from,
                to: filter.to,
            },
            page,
        )
        .await?;
    Ok(web::Json(page.into()))
}
