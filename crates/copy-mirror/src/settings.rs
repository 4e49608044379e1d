//! The watcher's settings from the command line or the environment.

use url::Url;

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
