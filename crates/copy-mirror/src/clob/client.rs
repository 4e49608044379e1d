//! `ClobClient`: the CLOB's REST endpoints the mirror uses, over reqwest, with L1 or L2
//! headers on each request and every failure sorted by what it means for the order.
//!
//! The sort that matters is for writes. A request the venue answered is accepted or
//! [`ClobError::Rejected`]; one that never left ([`ClobError::Unavailable`]: connection
//! refused, DNS, connect timeout) changed nothing; one that left but got no clear answer
//! (timeout, 5xx, connection reset, an unreadable 2xx) is [`ClobError::Ambiguous`]: the order
//! may or may not exist. This client never resends anything on its own; the caller resolves
//! an ambiguous order by looking it up, by its EIP-712 hash
//! ([`SignedOrder::hash`], the exchange's order hash the CLOB uses as its id) or by listing
//! the asset's orders.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use clones_kernel::{Clock, DomainError, ErrorKind};
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::auth::{self, ApiCredentials, ApiCredentialsWire, AuthError, Headers};
use super::order::{OrderError, POLYGON_CHAIN_ID, SignedOrder};
pub use super::wire::{
    BookRules, CancelOutcome, ClobPage, ClobTrade, END_CURSOR, OpenOrder, OrderFilter,
    OrderPlacement, TradeFilter, VenueMarket,
};

/// The production CLOB.
pub const POLYMARKET_CLOB_URL: &str = "https://clob.polymarket.com";

/// The cursor of a list's first page.
pub const FIRST_CURSOR: &str = "MA==";

/// The longest venue message kept in an error.
const MAX_MESSAGE: usize = 500;

/// Where the CLOB is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClobSettings {
    /// The host root, e.g. `https://clob.polymarket.com` (paths are signed from `/`).
    pub base_url: String,
    /// The chain L1 signatures are made for.
    pub chain_id: u64,
    /// The whole request, connect to last byte.
    pub timeout: Duration,
    /// Establishing the connection.
    pub connect_timeout: Duration,
}

impl Default for ClobSettings {
    fn default() -> Self {
        Self {
            base_url: POLYMARKET_CLOB_URL.into(),
            chain_id: POLYGON_CHAIN_ID,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// How a CLOB call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClobError {
    /// The venue answered and refused: a 4xx, or `success: false`.
    #[error("the CLOB refused ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The venue's `errorMsg` or `error`, or the start of its body.
        message: String,
    },
    /// A write left but got no clear answer (timeout, 5xx, connection reset, an unreadable
    /// 2xx): it may or may not have taken effect. Never resend blindly: look it up first.
    #[error("the CLOB's answer is ambiguous: {reason}")]
    Ambiguous {
        /// What happened.
        reason: String,
    },
    /// The request never reached the venue, or a read failed: nothing changed, a retry is
    /// safe.
    #[error("the CLOB is unavailable: {reason}")]
    Unavailable {
        /// What happened.
        reason: String,
    },
    /// A read found nothing (404, or `null` for an order id).
    #[error("not found on the CLOB")]
    NotFound,
    /// A 2xx answer of a read did not have the documented shape.
    #[error("the CLOB's answer did not parse: {0}")]
    Decode(String),
    /// An L2 endpoint called before credentials were set.
    #[error("no API credentials")]
    NoCredentials,
    /// A header could not be built.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The order could not be written.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The client is misconfigured (base URL, TLS, a header value).
    #[error("client misconfigured: {0}")]
    Client(String),
}

impl ClobError {
    /// Whether the write may or may not have happened.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, ClobError::Ambiguous { .. })
    }
}

impl DomainError for ClobError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClobError::Rejected { status: 429, .. } => ErrorKind::RateLimited,
            ClobError::Rejected { .. } => ErrorKind::RuleViolation,
            ClobError::Ambiguous { .. } | ClobError::Unavailable { .. } => ErrorKind::Unavailable,
            ClobError::NotFound => ErrorKind::NotFound,
            ClobError::Order(error) => error.kind(),
            ClobError::Decode(_)
            | ClobError::NoCredentials
            | ClobError::Auth(_)
            | ClobError::Client(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ClobError::Rejected { .. } => "clob_rejected",
            ClobError::Ambiguous { .. } => "clob_ambiguous",
            ClobError::Unavailable { .. } => "clob_unavailable",
            ClobError::NotFound => "clob_not_found",
            ClobError::Decode(_) => "clob_bad_answer",
            ClobError::NoCredentials => "clob_no_credentials",
            ClobError::Auth(_) => "clob_auth_failed",
            ClobError::Order(error) => error.code(),
            ClobError::Client(_) => "clob_misconfigured",
        }
    }
}

/// Which headers a request carries.
#[derive(Debug, Clone, Copy)]
enum Level {
    Public,
    L1 { nonce: u64 },
    L2,
}

/// Whether a request changes state at the venue, which decides what an unclear answer
/// means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Read,
    Write,
}

/// The CLOB REST client of one wallet.
#[derive(Debug, Clone)]
pub struct ClobClient {
    http: reqwest::Client,
    base_url: String,
    chain_id: u64,
    signer: PrivateKeySigner,
    credentials: Option<ApiCredentials>,
    clock: Arc<dyn Clock>,
}

impl ClobClient {
    /// A client for `signer`'s wallet; L2 endpoints need [`with_credentials`](Self::with_credentials).
    ///
    /// # Errors
    /// [`ClobError::Client`] for a base URL that is not http(s) or a client reqwest cannot
    /// build (no TLS provider installed).
    pub fn new(
        settings: ClobSettings,
        signer: PrivateKeySigner,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClobError> {
        let parsed = url::Url::parse(&settings.base_url)
            .map_err(|error| ClobError::Client(format!("base URL: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClobError::Client("base URL is not http(s)".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|error| ClobError::Client(error.to_string()))?;
        Ok(Self {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_string(),
            chain_id: settings.chain_id,
            signer,
            credentials: None,
            clock,
        })
    }

    /// The same client with L2 credentials.
    pub fn with_credentials(self, credentials: ApiCredentials) -> Self {
        Self {
            credentials: Some(credentials),
            ..self
        }
    }

    /// The credentials in use, if any.
    pub fn credentials(&self) -> Option<&ApiCredentials> {
        self.credentials.as_ref()
    }

    /// The wallet's address (`POLY_ADDRESS`).
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Creates the wallet's API credentials for `nonce`, or derives them when they exist
    /// (`POST /auth/api-key`, then `GET /auth/derive-api-key`; L1).
    ///
    /// # Errors
    /// The derive call's [`ClobError`] when both fail.
    pub async fn create_or_derive_api_key(&self, nonce: u64) -> Result<ApiCredentials, ClobError> {
        let created = self
            .call(
                Method::POST,
                "/auth/api-key",
                &[],
                None,
                Level::L1 { nonce },
                Effect::Write,
            )
            .await
            .and_then(|(_, body)| decode::<ApiCredentialsWire>(&body));
        match created {
            Ok(wire) => Ok(wire.into()),
            Err(_) => {
                let (_, body) = self
                    .call(
                        Method::GET,
                        "/auth/derive-api-key",
                        &[],
                        None,
                        Level::L1 { nonce },
                        Effect::Read,
                    )
                    .await?;
                Ok(decode::<ApiCredentialsWire>(&body)?.into())
            }
        }
    }

    /// The rules a token's orders follow: its tick, smallest size and exchange, read from its
    /// book (`GET /book?token_id`, public).
    ///
    /// # Errors
    /// [`ClobError::NotFound`] for a token without a book; [`ClobError`] of the call or shape.
    pub async fn market(&self, token_id: &str) -> Result<VenueMarket, ClobError> {
        let query = [("token_id", token_id.to_string())];
        let (_, body) = self
            .call(
                Method::GET,
                "/book",
                &query,
                None,
                Level::Public,
                Effect::Read,
            )
            .await?;
        let book: BookRules = decode(&body)?;
        Ok(book.into())
    }

    /// Posts a signed order (L2) once.
    ///
    /// # Errors
    /// [`ClobError::Rejected`] with the venue's message when it refused the order;
    /// [`ClobError::Ambiguous`] when it may or may not exist (never resent here);
    /// [`ClobError::Unavailable`] when it never left.
    pub async fn post_order(&self, order: &SignedOrder) -> Result<OrderPlacement, ClobError> {
        let owner = &self
            .credentials
            .as_ref()
            .ok_or(ClobError::NoCredentials)?
            .api_key;
        let body = order.body(owner)?;
        let (status, text) = self
            .call(
                Method::POST,
                "/order",
                &[],
                Some(body),
                Level::L2,
                Effect::Write,
            )
            .await?;
        let placement: OrderPlacement =
            serde_json::from_str(&text).map_err(|error| ClobError::Ambiguous {
                reason: format!("unreadable {status} answer: {error}"),
            })?;
        if placement.success {
            Ok(placement)
        } else {
            Err(ClobError::Rejected {
                status,
                message: clip(&placement.error_msg),
            })
        }
    }

    /// One order (`GET /data/order/{id}`, L2).
    ///
    /// # Errors
    /// [`ClobError::NotFound`] when the venue does not know it.
    pub async fn order(&self, id: &str) -> Result<OpenOrder, ClobError> {
        if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(ClobError::NotFound);
        }
        let path = format!("/data/order/{id}");
        let (_, body) = self
            .call(Method::GET, &path, &[], None, Level::L2, Effect::Read)
            .await?;
        let order: Option<OpenOrder> = decode(&body)?;
        order.ok_or(ClobError::NotFound)
    }

    /// A page of the account's orders (`GET /data/orders`, L2); `cursor` `None` is the first.
    ///
    /// # Errors
    /// [`ClobError`] of the call or of the answer's shape.
    pub async fn orders(
        &self,
        filter: &OrderFilter,
        cursor: Option<&str>,
    ) -> Result<ClobPage<OpenOrder>, ClobError> {
        let mut query = Vec::new();
        push(&mut query, "id", filter.id.clone());
        push(&mut query, "market", filter.market.clone());
        push(&mut query, "asset_id", filter.asset_id.clone());
        query.push(("next_cursor", cursor.unwrap_or(FIRST_CURSOR).to_string()));
        let (_, body) = self
            .call(
                Method::GET,
                "/data/orders",
                &query,
                None,
                Level::L2,
                Effect::Read,
            )
            .await?;
        decode(&body)
    }

    /// A page of the account's trades (`GET /data/trades`, L2); `cursor` `None` is the first.
    ///
    /// # Errors
    /// [`ClobError`] of the call or of the answer's shape.
    pub async fn trades(
        &self,
        filter: &TradeFilter,
        cursor: Option<&str>,
    ) -> Result<ClobPage<ClobTrade>, ClobError> {
        let mut query = Vec::new();
        push(&mut query, "id", filter.id.clone());
        push(&mut query, "taker", filter.taker.clone());
        push(&mut query, "maker", filter.maker.clone());
        push(&mut query, "market", filter.market.clone());
        push(&mut query, "asset_id", filter.asset_id.clone());
        push(&mut query, "before", filter.before.map(|at| at.to_string()));
        push(&mut query, "after", filter.after.map(|at| at.to_string()));
        query.push(("next_cursor", cursor.unwrap_or(FIRST_CURSOR).to_string()));
        let (_, body) = self
            .call(
                Method::GET,
                "/data/trades",
                &query,
                None,
                Level::L2,
                Effect::Read,
            )
            .await?;
        decode(&body)
    }

    /// Cancels one order (`DELETE /order {"orderId"}`, L2). Cancelling twice is harmless, so
    /// an ambiguous cancel may be sent again.
    ///
    /// # Errors
    /// [`ClobError`] of the call or of the answer's shape.
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, ClobError> {
        let body = serde_json::json!({ "orderId": id }).to_string();
        let (_, text) = self
            .call(
                Method::DELETE,
                "/order",
                &[],
                Some(body),
                Level::L2,
                Effect::Write,
            )
            .await?;
        decode(&text)
    }

    fn headers(
        &self,
        level: Level,
        method: &Method,
        path: &str,
        body: &str,
    ) -> Result<Headers, ClobError> {
        let timestamp = u64::try_from(self.clock.now().timestamp()).unwrap_or(0);
        match level {
            Level::Public => Ok(Headers::new()),
            Level::L1 { nonce } => Ok(auth::l1_headers(
                &self.signer,
                self.chain_id,
                timestamp,
                nonce,
            )?),
            Level::L2 => {
                let credentials = self.credentials.as_ref().ok_or(ClobError::NoCredentials)?;
                Ok(auth::l2_headers(
                    self.signer.address(),
                    credentials,
                    timestamp,
                    method.as_str(),
                    path,
                    body,
                )?)
            }
        }
    }

    /// Sends one request and returns a 2xx answer's status and body; everything else becomes
    /// the error its [`Effect`] calls for.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<String>,
        level: Level,
        effect: Effect,
    ) -> Result<(u16, String), ClobError> {
        let body_text = body.as_deref().unwrap_or("");
        let headers = self.headers(level, &method, path, body_text)?;
        let mut url = url::Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|error| ClobError::Client(format!("URL: {error}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport(&error, effect))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| unclear(effect, format!("reading the {status} answer: {error}")))?;
        match status {
            200..=299 => Ok((status, text)),
            404 if effect == Effect::Read => Err(ClobError::NotFound),
            400..=499 => Err(ClobError::Rejected {
                status,
                message: venue_message(&text),
            }),
            _ => Err(unclear(effect, format!("status {status}: {}", clip(&text)))),
        }
    }
}

/// An unclear answer: ambiguous for a write, a retryable unavailability for a read.
fn unclear(effect: Effect, reason: String) -> ClobError {
    match effect {
        Effect::Write => ClobError::Ambiguous { reason },
        Effect::Read => ClobError::Unavailable { reason },
    }
}

/// A request that failed without an answer: never sent (connect, build) or sent and lost.
fn transport(error: &reqwest::Error, effect: Effect) -> ClobError {
    if error.is_builder() {
        ClobError::Client(error.to_string())
    } else if error.is_connect() {
        ClobError::Unavailable {
            reason: format!("not sent: {error}"),
        }
    } else if error.is_timeout() {
        unclear(effect, format!("timed out: {error}"))
    } else {
        unclear(effect, format!("no answer: {error}"))
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, ClobError> {
    serde_json::from_str(body).map_err(|error| ClobError::Decode(error.to_string()))
}

fn push(query: &mut Vec<(&'static str, String)>, name: &'static str, value: Option<String>) {
    if let Some(value) = value {
        query.push((name, value));
    }
}

/// The venue's `errorMsg` or `error`, else the start of the body.
fn venue_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|value| {
        ["errorMsg", "error"]
            .iter()
            .find_map(|field| value.get(field).and_then(|text| text.as_str()))
    });
    clip(message.unwrap_or(body))
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_MESSAGE).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_venues_message_is_read_from_either_field() {
        assert_eq!(venue_message(r#"{"errorMsg":"no balance"}"#), "no balance");
        assert_eq!(
            venue_message(r#"{"error":"order_version_mismatch"}"#),
            "order_version_mismatch"
        );
        assert_eq!(venue_message("plain"), "plain");
        assert_eq!(venue_message(&"x".repeat(600)).len(), MAX_MESSAGE);
    }

    #[test]
    fn errors_map_to_kinds_and_codes() {
        let ambiguous = ClobError::Ambiguous { reason: "x".into() };
        assert!(ambiguous.is_ambiguous());
        assert_eq!(ambiguous.code(), "clob_ambiguous");
        assert_eq!(
            ClobError::Rejected {
                status: 429,
                message: String::new()
            }
            .kind(),
            ErrorKind::RateLimited
        );
        assert_eq!(
            ClobError::Order(OrderError::TokenId).code(),
            "invalid_token_id"
        );
        assert_eq!(unclear(Effect::Read, "x".into()).code(), "clob_unavailable");
    }
}
