//! The HTTP client every remote source uses: per-request timeout, bounded retries with
//! exponential backoff on 5xx, timeouts and connection failures, `Retry-After` honoured on
//! 429 (within a cap), and a response size limit. Only JSON bodies are accepted.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::{SourceError, malformed};

/// How patient a source client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPolicy {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each later one.
    pub base_backoff: Duration,
    /// Longest wait between attempts; a `Retry-After` beyond it ends the retries.
    pub max_backoff: Duration,
    /// Largest accepted response body.
    pub max_body_bytes: usize,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_body_bytes: 32 * 1024 * 1024,
        }
    }
}

/// A JSON-over-HTTP client with the retry policy.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: HttpPolicy,
}

enum Attempt {
    Done(Value),
    Retry { wait: Duration, error: SourceError },
    Fail(SourceError),
}

impl HttpClient {
    /// A client with `policy`. Needs the process's TLS provider installed for https URLs.
    ///
    /// # Errors
    /// [`SourceError::Config`] when the client cannot be built.
    pub fn new(policy: HttpPolicy) -> Result<Self, SourceError> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .user_agent(concat!("clones-ingest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SourceError::Config(format!("HTTP client: {error}")))?;
        Ok(Self { client, policy })
    }

    /// `GET url` and parse the JSON body.
    ///
    /// # Errors
    /// See [`SourceError`].
    pub async fn get_json(&self, url: &Url) -> Result<Value, SourceError> {
        self.request(Method::GET, url, None).await
    }

    /// `POST url` with a JSON body and parse the JSON answer.
    ///
    /// # Errors
    /// See [`SourceError`].
    pub async fn post_json(&self, url: &Url, body: &Value) -> Result<Value, SourceError> {
        self.request(Method::POST, url, Some(body)).await
    }

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        self.policy
            .base_backoff
            .saturating_mul(factor)
            .min(self.policy.max_backoff)
    }

    async fn request(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, SourceError> {
        let attempts = self.policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(method.clone(), url, body, attempt - 1).await;
            match outcome {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry { wait, error } => {
                    if attempt >= attempts {
                        return Err(error);
                    }
                    tracing::debug!(url = %url, attempt, ?wait, %error, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        retry: u32,
    ) -> Attempt {
        let mut request = self.client.request(method, url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |detail: String| SourceError::Transport {
            url: url.to_string(),
            detail,
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Attempt::Retry {
                    wait: self.backoff(retry),
                    error: transport(error.to_string()),
                };
            }
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let error = SourceError::RateLimited {
                url: url.to_string(),
            };
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return match retry_after {
                Some(wait) if wait > self.policy.max_backoff => Attempt::Fail(error),
                Some(wait) => Attempt::Retry { wait, error },
                None => Attempt::Retry {
                    wait: self.backoff(retry),
                    error,
                },
            };
        }
        if status.is_server_error() {
            return Attempt::Retry {
                wait: self.backoff(retry),
                error: SourceError::Status {
                    status: status.as_u16(),
                    url: url.to_string(),
                },
            };
        }
        if !status.is_success() {
            return Attempt::Fail(SourceError::Status {
                status: status.as_u16(),
                url: url.to_string(),
            });
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.policy.max_body_bytes as u64)
        {
            return Attempt::Fail(malformed("response body is too large"));
        }
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => {
                return Attempt::Retry {
                    wait: self.backoff(retry),
                    error: transport(error.to_string()),
                };
            }
        };
        if bytes.len() > self.policy.max_body_bytes {
            return Attempt::Fail(malformed("response body is too large"));
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Attempt::Done(value),
            Err(error) => Attempt::Fail(malformed(format!("body is not JSON: {error}"))),
        }
    }
}

/// `base` joined with `path` (which may carry a query), keeping any path prefix of `base`.
///
/// # Errors
/// [`SourceError::Config`] when the result is not a URL.
pub fn endpoint(base: &Url, path: &str) -> Result<Url, SourceError> {
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&joined).map_err(|error| SourceError::Config(format!("URL {joined}: {error}")))
}
