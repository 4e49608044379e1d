//! Settings of the API process, from flags or environment variables (`api --help` lists them
//! all; docs/RUNBOOK.md explains them). Secrets are redacted from debug output.

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::Duration;
use clap::{Args, Parser};
use clones_auth::{AccessTokens, AuthSettings, JwtKeys};
use clones_kernel::Secret;
use clones_runtime::settings::{DatabaseArgs, MetricsArgs};

/// Everything the `api` binary reads.
#[derive(Debug, Clone, Parser)]
#[command(name = "api", about = "The clones HTTP API", version)]
pub struct ApiSettings {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// HTTP serving.
    #[command(flatten)]
    pub http: HttpArgs,
    /// The Prometheus metrics listener (separate from `HTTP_BIND`; off unless set).
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Sign-in and tokens.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Payments (quotes, deposits).
    #[command(flatten)]
    pub payments: clones_economy::settings::PaymentArgs,
    /// The language-model endpoint dry runs may ask.
    #[command(flatten)]
    pub llm: clones_ai_decision::settings::LlmArgs,
    /// Backtest limits (checked when a job is queued).
    #[command(flatten)]
    pub backtests: clones_backtest::BacktestJobArgs,
    /// The keys that seal secrets (a deployment's pool deposit key).
    #[command(flatten)]
    pub secrets: clones_secrets::SecretsArgs,
    /// The deployment factory's chain (the transactions owners sign).
    #[command(flatten)]
    pub deployment: clones_deployment::DeploymentArgs,
    /// The CLOB tenants' copy-trade wallets get their API credentials from.
    #[command(flatten)]
    pub clob: clones_copy_mirror::settings::ClobVenueArgs,
}

/// HTTP serving settings.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "HTTP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// actix worker threads (0 = one per core).
    #[arg(long, env = "HTTP_WORKERS", default_value_t = 0)]
    pub http_workers: usize,
    /// Origins allowed by CORS, comma separated (e.g. `https://app.example.com`). Empty: none.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "JSON_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub json_body_limit_bytes: usize,
    /// Sustained requests per minute per client IP on /api/v1/auth routes.
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = 30)]
    pub auth_rate_limit_per_minute: u32,
    /// Burst size per client IP on /api/v1/auth routes.
    #[arg(long, env = "AUTH_RATE_LIMIT_BURST", default_value_t = 10)]
    pub auth_rate_limit_burst: u32,
    /// Sustained decision dry runs per minute per user (each records a run and may call a
    /// paid language model).
    #[arg(long, env = "DRY_RUN_RATE_LIMIT_PER_MINUTE", default_value_t = 6)]
    pub dry_run_rate_limit_per_minute: u32,
    /// Burst of decision dry runs per user.
    #[arg(long, env = "DRY_RUN_RATE_LIMIT_BURST", default_value_t = 3)]
    pub dry_run_rate_limit_burst: u32,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` name the client for rate limiting, as IP
    /// addresses or CIDR blocks, comma separated (e.g. `10.0.0.0/8,::1`). Unset: none, and
    /// the client is always the TCP peer.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::rate_limit::Cidr>,
    /// A worker is reported stale after this many intervals without a completed cycle.
    #[arg(long, env = "WORKER_STALE_AFTER_INTERVALS", default_value_t = 3)]
    pub worker_stale_after_intervals: u32,
}

/// Sign-in and token settings.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// The domain (`host[:port]`) SIWE messages are bound to.
    #[arg(long, env = "SIWE_DOMAIN", default_value = "localhost:8080")]
    pub siwe_domain: String,
    /// The URI SIWE messages are bound to.
    #[arg(long, env = "SIWE_URI", default_value = "http://localhost:8080")]
    pub siwe_uri: String,
    /// The statement shown in sign-in messages.
    #[arg(long, env = "SIWE_STATEMENT", default_value = "Sign in to Clones.")]
    pub siwe_statement: String,
    /// Chain ids wallets may sign in from, comma separated.
    #[arg(
        long,
        env = "SIWE_CHAIN_IDS",
        value_delimiter = ',',
        default_value = "1,137,31337"
    )]
    pub siwe_chain_ids: Vec<u64>,
    /// How long a sign-in challenge stays valid, in seconds.
    #[arg(long, env = "SIWE_CHALLENGE_TTL_SECS", default_value_t = 600)]
    pub challenge_ttl_secs: i64,
    /// JWT signing keys: `kid:base64url-secret[,kid:secret…]`; the first signs, all verify.
    #[arg(long, env = "JWT_SIGNING_KEYS", hide_env_values = true)]
    pub jwt_signing_keys: Secret<String>,
    /// The `iss` claim of access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "clones")]
    pub jwt_issuer: String,
    /// The `aud` claim of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "clones-api")]
    pub jwt_audience: String,
    /// Access token lifetime, in seconds (60-3600; access tokens cannot be revoked early, so
    /// they stay short).
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: i64,
    /// Refresh token lifetime, in seconds.
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 14 * 24 * 3600)]
    pub refresh_token_ttl_secs: i64,
    /// Absolute session lifetime, in seconds.
    #[arg(long, env = "SESSION_MAX_AGE_SECS", default_value_t = 90 * 24 * 3600)]
    pub session_max_age_secs: i64,
    /// JSON-RPC endpoints for ERC-1271 contract-wallet signatures: `chainId=url[,…]`.
    #[arg(
        long,
        env = "CHAIN_RPC_URLS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub chain_rpc_urls: Vec<String>,
}

/// Why settings could not be turned into a working configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingsError {
    name: &'static str,
    reason: String,
}

impl SettingsError {
    /// A language-model setting is unusable.
    pub fn llm(reason: String) -> Self {
        Self {
            name: "llm",
            reason,
        }
    }

    /// A backtest setting is out of range.
    pub fn backtests(reason: String) -> Self {
        Self {
            name: "backtests",
            reason,
        }
    }

    /// A payment setting failed to parse.
    pub fn payments(reason: String) -> Self {
        Self {
            name: "payments",
            reason,
        }
    }

    /// A deployment chain setting failed to parse.
    pub fn deployment(reason: String) -> Self {
        Self {
            name: "deployment",
            reason,
        }
    }

    /// A secrets setting is unusable (the reason names the variable, never its value).
    pub fn secrets(reason: String) -> Self {
        Self {
            name: "secrets",
            reason,
        }
    }
}

fn positive(name: &'static str, seconds: i64) -> Result<Duration, SettingsError> {
    if seconds > 0 {
        Ok(Duration::seconds(seconds))
    } else {
        Err(SettingsError {
            name,
            reason: "must be positive".into(),
        })
    }
}

fn within(name: &'static str, seconds: i64, min: i64, max: i64) -> Result<Duration, SettingsError> {
    if (min..=max).contains(&seconds) {
        Ok(Duration::seconds(seconds))
    } else {
        Err(SettingsError {
            name,
            reason: format!("must be between {min} and {max} seconds"),
        })
    }
}

impl AuthArgs {
    /// The identity service's settings.
    ///
    /// # Errors
    /// [`SettingsError`] naming the bad variable (never a secret's value).
    pub fn to_settings(&self) -> Result<AuthSettings, SettingsError> {
        let keys =
            JwtKeys::parse(self.jwt_signing_keys.expose()).map_err(|error| SettingsError {
                name: "JWT_SIGNING_KEYS",
                reason: error.to_string(),
            })?;
        let mut chain_rpc_urls = HashMap::new();
        for entry in self.chain_rpc_urls.iter().filter(|entry| !entry.is_empty()) {
            let parsed = entry.split_once('=').and_then(|(chain, url)| {
                Some((
                    chain.trim().parse::<u64>().ok()?,
                    url::Url::parse(url.trim()).ok()?,
                ))
            });
            let (chain, url) = parsed.ok_or_else(|| SettingsError {
                name: "CHAIN_RPC_URLS",
                reason: format!("`{entry}` is not chainId=url"),
            })?;
            chain_rpc_urls.insert(chain, url);
        }
        if self.siwe_chain_ids.is_empty() {
            return Err(SettingsError {
                name: "SIWE_CHAIN_IDS",
                reason: "at least one chain id is required".into(),
            });
        }
        Ok(AuthSettings {
            siwe_domain: self.siwe_domain.clone(),
            siwe_uri: self.siwe_uri.clone(),
            siwe_statement: self.siwe_statement.clone(),
            allowed_chain_ids: self.siwe_chain_ids.clone(),
            challenge_ttl: positive("SIWE_CHALLENGE_TTL_SECS", self.challenge_ttl_secs)?,
            access_tokens: AccessTokens::new(
                keys,
                self.jwt_issuer.clone(),
                self.jwt_audience.clone(),
                within(
                    "ACCESS_TOKEN_TTL_SECS",
                    self.access_token_ttl_secs,
                    60,
                    3600,
                )?,
            ),
            refresh_ttl: positive("REFRESH_TOKEN_TTL_SECS", self.refresh_token_ttl_secs)?,
            session_max_age: positive("SESSION_MAX_AGE_SECS", self.session_max_age_secs)?,
            chain_rpc_urls,
        })
    }
}
