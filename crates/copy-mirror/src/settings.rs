//! The worker's settings from the command line or the environment: the Data API watcher's,
//! the market stream's, where the CLOB is ([`ClobVenueArgs`], also read by the API, which
//! creates tenants' CLOB wallets) and which CLOB accounts trade ([`ClobArgs`]).

use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use url::Url;

use crate::clob::{ApiCredentials, ClobAccount, ClobClient, ClobSettings, OrderSigner, Wallet};
use crate::stream::StreamSettings;
use crate::wakeup::Followup;
use crate::watch::WatchSettings;

/// Where the Data API is and how patient the watcher is with it.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// Base URL of the Polymarket Data API.
    #[arg(
        long,
        env = "POLYMARKET_DATA_API_URL",
        default_value = "https://data-api.polymarket.com/"
    )]
    pub data_api_url: Url,
    /// Seconds a trade may take to appear in the Data API; the stored watermark is a poll's
    /// start less this.
    #[arg(long, env = "MIRROR_LAG_SECS", default_value_t = 60)]
    pub mirror_lag_secs: u32,
    /// On a wallet's first poll, how many seconds back to read.
    #[arg(long, env = "MIRROR_BACKLOG_SECS", default_value_t = 60)]
    pub mirror_backlog_secs: u32,
}

impl WatchArgs {
    /// The watcher's settings.
    pub fn to_settings(&self) -> WatchSettings {
        WatchSettings {
            lag_secs: i64::from(self.mirror_lag_secs),
            backlog_secs: i64::from(self.mirror_backlog_secs),
            ..WatchSettings::new(self.data_api_url.clone())
        }
    }
}

/// The market stream that wakes polls when a watched asset trades.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// The CLOB's market WebSocket channel.
    #[arg(long, env = "POLYMARKET_MARKET_WS_URL", default_value = crate::stream::POLYMARKET_MARKET_WS_URL)]
    pub market_ws_url: Url,
    /// Whether to open the stream at all (polls alone still mirror every fill).
    #[arg(long, env = "MIRROR_STREAM_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub mirror_stream_enabled: bool,
    /// Milliseconds after a wake-up poll that found nothing before the wallet is polled
    /// again (the Data API indexes a trade a little after the market reports it); each
    /// further follow-up waits twice as long.
    #[arg(long, env = "MIRROR_WAKE_FOLLOWUP_MS", default_value_t = 500)]
    pub mirror_wake_followup_ms: u64,
    /// Follow-up polls after a wake-up poll that found nothing, at most; 0: none.
    #[arg(long, env = "MIRROR_WAKE_RETRIES", default_value_t = 4)]
    pub mirror_wake_retries: u32,
}

impl StreamArgs {
    /// The stream's settings, or `None` when it is off.
    pub fn to_settings(&self) -> Option<StreamSettings> {
        self.mirror_stream_enabled
            .then(|| StreamSettings::new(self.market_ws_url.clone()))
    }

    /// The follow-up polls.
    pub fn followup(&self) -> Followup {
        Followup {
            first: Duration::from_millis(self.mirror_wake_followup_ms),
            retries: self.mirror_wake_retries,
        }
    }
}

/// Where the Polymarket CLOB is: the host, its chain and how long a request may take.
#[derive(Debug, Clone, clap::Args)]
pub struct ClobVenueArgs {
    /// Base URL of the Polymarket CLOB.
    #[arg(long, env = "POLYMARKET_CLOB_URL", default_value = crate::clob::client::POLYMARKET_CLOB_URL)]
    pub clob_url: Url,
    /// The chain orders and L1 signatures are made for.
    #[arg(long, env = "CLOB_CHAIN_ID", default_value_t = crate::clob::order::POLYGON_CHAIN_ID)]
    pub clob_chain_id: u64,
    /// Milliseconds a CLOB request may take; an order past it is ambiguous and looked up,
    /// never resent.
    #[arg(long, env = "CLOB_TIMEOUT_MS", default_value_t = 5_000)]
    pub clob_timeout_ms: u64,
}

impl ClobVenueArgs {
    /// The client settings.
    pub fn to_settings(&self) -> ClobSettings {
        ClobSettings {
            base_url: self.clob_url.to_string(),
            chain_id: self.clob_chain_id,
            timeout: Duration::from_millis(self.clob_timeout_ms),
            ..ClobSettings::default()
        }
    }
}

/// Whose CLOB wallet a tenant's live orders trade through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ClobAccountsMode {
    /// Each tenant's own wallet (`copy_trade_clob_accounts`, sealed with the keyring); a
    /// tenant without one has its live orders recorded as not sent.
    Tenant,
    /// The one operator wallet of `CLOB_PRIVATE_KEY`, for every tenant.
    #[default]
    House,
}

/// Which CLOB accounts trade live grants: each tenant's own wallet, or the operator's one
/// account (`house`). In `house` mode without a private key there is no live executor and
/// live grants record `not_sent` errors.
#[derive(Debug, Clone, clap::Args)]
pub struct ClobArgs {
    /// Where the CLOB is.
    #[command(flatten)]
    pub venue: ClobVenueArgs,
    /// `tenant` (each tenant's own wallet) or `house` (the operator's account); default
    /// `tenant` when a keyring is configured (`SECRETS_MASTER_KEY`), `house` otherwise.
    #[arg(long, env = "MIRROR_CLOB_ACCOUNTS", value_enum)]
    pub mirror_clob_accounts: Option<ClobAccountsMode>,
    /// Seconds between two checks of a tenant wallet's Data API positions against the ledger.
    #[arg(long, env = "MIRROR_POSITIONS_CHECK_SECS", default_value_t = 300)]
    pub mirror_positions_check_secs: u32,
    /// The house account's key that signs orders, `0x` + 64 hex digits.
    #[arg(long, env = "CLOB_PRIVATE_KEY", hide_env_values = true)]
    pub clob_private_key: Option<String>,
    /// Whose funds the house account's orders use: `eoa` (the key's own address), `proxy` or
    /// `safe` (with `CLOB_FUNDER`).
    #[arg(long, env = "CLOB_SIGNATURE_TYPE", default_value = "eoa")]
    pub clob_signature_type: String,
    /// The proxy or safe address for `proxy` and `safe`.
    #[arg(long, env = "CLOB_FUNDER")]
    pub clob_funder: Option<String>,
    /// The house account's L2 API key; created or derived with the private key when absent.
    #[arg(long, env = "CLOB_API_KEY")]
    pub clob_api_key: Option<String>,
    /// L2 API secret (base64url).
    #[arg(long, env = "CLOB_API_SECRET", hide_env_values = true)]
    pub clob_api_secret: Option<String>,
    /// L2 API passphrase.
    #[arg(long, env = "CLOB_API_PASSPHRASE", hide_env_values = true)]
    pub clob_api_passphrase: Option<String>,
}

impl ClobArgs {
    /// The accounts mode: as set, or `tenant` when a keyring is configured and `house`
    /// otherwise.
    ///
    /// # Errors
    /// A message when `tenant` is asked for without a keyring.
    pub fn accounts_mode(&self, keyring_configured: bool) -> Result<ClobAccountsMode, String> {
        match self.mirror_clob_accounts {
            Some(ClobAccountsMode::Tenant) if !keyring_configured => {
                Err("MIRROR_CLOB_ACCOUNTS=tenant needs SECRETS_MASTER_KEY and SECRETS_SALT".into())
            }
            Some(mode) => Ok(mode),
            None if keyring_configured => Ok(ClobAccountsMode::Tenant),
            None => Ok(ClobAccountsMode::House),
        }
    }

    /// How often tenant wallets' positions are checked.
    pub fn positions_every(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.mirror_positions_check_secs))
    }

    /// The configured house account, with its L2 credentials (created or derived when not given);
    /// `None` without a private key.
    ///
    /// # Errors
    /// A message naming the setting that is wrong, or the venue's error when credentials
    /// could not be derived.
    pub async fn account(
        &self,
        clock: std::sync::Arc<dyn clones_kernel::Clock>,
    ) -> Result<Option<ClobAccount>, String> {
        let Some(key) = self.clob_private_key.as_deref() else {
            return Ok(None);
        };
        let signer: PrivateKeySigner = key
            .parse()
            .map_err(|_| "CLOB_PRIVATE_KEY is not a private key".to_string())?;
        let funder = || -> Result<Address, String> {
            self.clob_funder
                .as_deref()
                .ok_or_else(|| "CLOB_FUNDER is required for this signature type".to_string())?
                .parse()
                .map_err(|_| "CLOB_FUNDER is not an address".to_string())
        };
        let wallet = match self.clob_signature_type.as_str() {
            "eoa" => Wallet::Eoa,
            "proxy" => Wallet::PolyProxy(funder()?),
            "safe" => Wallet::GnosisSafe(funder()?),
            other => {
                return Err(format!(
                    "CLOB_SIGNATURE_TYPE `{other}` is not eoa, proxy or safe"
                ));
            }
        };
        let client = ClobClient::new(self.venue.to_settings(), signer.clone(), clock)
            .map_err(|e| e.to_string())?;
        let credentials = match (
            &self.clob_api_key,
            &self.clob_api_secret,
            &self.clob_api_passphrase,
        ) {
            (Some(key), Some(secret), Some(passphrase)) => {
                ApiCredentials::new(key.clone(), secret.clone(), passphrase.clone())
            }
            (None, None, None) => client
                .create_or_derive_api_key(0)
                .await
                .map_err(|error| format!("deriving CLOB API credentials: {error}"))?,
            _ => {
                return Err(
                    "set all of CLOB_API_KEY, CLOB_API_SECRET and CLOB_API_PASSPHRASE, or none"
                        .into(),
                );
            }
        };
        Ok(Some(ClobAccount {
            client: client.with_credentials(credentials),
            signer: OrderSigner::new(signer, wallet, self.venue.clob_chain_id),
        }))
    }
}
