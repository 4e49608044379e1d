//! The market WebSocket wake-up: one connection to the CLOB's market channel serves every
//! tenant's targets. A trade on a watched outcome token wakes a poll of the wallets that trade
//! it, so a mirror does not wait for the next interval; the poll stays the safety net and the
//! only source of fills (the stream names no trader).
//!
//! - [`Router`] (pure) maps each asset to the wallets whose polls have seen it traded.
//! - [`traded_assets`] and the message builders (pure) are the wire format.
//! - [`MarketStream::run`] keeps the connection: subscribes to the router's assets, sends
//!   `PING` every `ping_every` (the venue answers `PONG`), treats `silence_limit` without any
//!   frame as a dead connection, reconnects with a doubling backoff and subscribes again, and
//!   follows the asset set with `subscribe` / `unsubscribe` operations.
//!
//! Must not: decide or record anything; only wake polls.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

/// The production market channel.
pub const POLYMARKET_MARKET_WS_URL: &str = "wss://ws-subscriptions-clob.polymarket.com/ws/market";

/// Which wallets trade which outcome tokens, from what their polls have read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Router {
    by_asset: BTreeMap<String, BTreeSet<String>>,
}

impl Router {
    /// Records that `wallet` trades `asset`.
    pub fn note(&mut self, wallet: &str, asset: &str) {
        self.by_asset
            .entry(asset.to_string())
            .or_default()
            .insert(wallet.to_ascii_lowercase());
    }

    /// Keeps only the wallets still watched (a target removed everywhere stops waking).
    pub fn retain_wallets(&mut self, watched: &BTreeSet<String>) {
        for wallets in self.by_asset.values_mut() {
            wallets.retain(|wallet| watched.contains(wallet));
        }
        self.by_asset.retain(|_, wallets| !wallets.is_empty());
    }

    /// The wallets a trade on `asset` wakes.
    pub fn wallets_for(&self, asset: &str) -> Vec<String> {
        self.by_asset
            .get(asset)
            .map(|wallets| wallets.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every asset to subscribe to.
    pub fn assets(&self) -> BTreeSet<String> {
        self.by_asset.keys().cloned().collect()
    }
}

/// The outcome tokens a frame reports trades on (`last_trade_price` events). A frame is one
/// event object or an array of them; anything else (`PONG`, books, price changes, garbage)
/// reports none.
pub fn traded_assets(frame: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(frame) else {
        return Vec::new();
    };
    let events = match value {
        serde_json::Value::Array(events) => events,
        event => vec![event],
    };
    events
        .iter()
        .filter(|event| event["event_type"] == "last_trade_price")
        .filter_map(|event| event["asset_id"].as_str().map(str::to_string))
        .collect()
}

/// The first message of a connection: the market channel for `assets`.
pub fn subscribe_message(assets: &BTreeSet<String>) -> String {
    serde_json::json!({
        "type": "market",
        "assets_ids": assets,
        "initial_dump": false,
        "custom_feature_enabled": false,
    })
    .to_string()
}

/// A change of subscription on an open connection.
pub fn update_message(subscribe: bool, assets: &BTreeSet<String>) -> String {
    serde_json::json!({
        "operation": if subscribe { "subscribe" } else { "unsubscribe" },
        "assets_ids": assets,
    })
    .to_string()
}

/// Where the stream connects and how patient it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// The market channel's URL.
    pub url: Url,
    /// Time between `PING`s.
    pub ping_every: Duration,
    /// A connection without any frame for this long is dead.
    pub silence_limit: Duration,
    /// The first reconnect delay; it doubles per failed attempt up to `backoff_max`.
    pub backoff_min: Duration,
    /// The longest reconnect delay.
    pub backoff_max: Duration,
}

impl StreamSettings {
    /// The venue's cadence (PING every 10 s) for `url`.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            ping_every: Duration::from_secs(10),
            silence_limit: Duration::from_secs(30),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// What the stream has done since it started.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// Trades on a watched asset that woke a poll.
    pub wakeups: AtomicU64,
    /// Connections opened (the first one included).
    pub connects: AtomicU64,
    /// Connections lost or refused.
    pub disconnects: AtomicU64,
}

/// The market stream: follows the asset set in `assets` and sends each traded asset to
/// `wake`.
pub struct MarketStream {
    settings: StreamSettings,
    assets: watch::Receiver<BTreeSet<String>>,
    wake: mpsc::Sender<String>,
    counters: Arc<StreamCounters>,
}

/// Why a connection ended.
#[derive(Debug)]
enum Ended {
    Shutdown,
    Lost(String),
}

impl MarketStream {
    /// A stream over `settings`.
    pub fn new(
        settings: StreamSettings,
        assets: watch::Receiver<BTreeSet<String>>,
        wake: mpsc::Sender<String>,
        counters: Arc<StreamCounters>,
    ) -> Self {
        Self {
            settings,
            assets,
            wake,
            counters,
        }
    }

    /// Keeps a connection open until `shutdown` turns true (or its sender is gone).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = self.settings.backoff_min;
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Nothing to watch: wait for assets rather than hold an idle connection.
            if self.assets.borrow().is_empty() {
                tokio::select! {
                    changed = self.assets.changed() => if changed.is_err() { return },
                    _ = shutdown.changed() => return,
                }
                continue;
            }
            let opened = Instant::now();
            match self.session(&mut shutdown).await {
                Ended::Shutdown => return,
                Ended::Lost(reason) => {
                    self.counters.disconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%reason, retry_in_ms = backoff.as_millis() as u64, "market stream lost");
                }
            }
            // A connection that held a while starts the backoff over.
            if opened.elapsed() > self.settings.silence_limit * 2 {
                backoff = self.settings.backoff_min;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => return,
            }
            backoff = (backoff * 2).min(self.settings.backoff_max);
        }
    }

    async fn session(&mut self, shutdown: &mut watch::Receiver<bool>) -> Ended {
        let connected = tokio::time::timeout(
            self.settings.silence_limit,
            tokio_tungstenite::connect_async(self.settings.url.as_str()),
        )
        .await;
        let socket = match connected {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(error)) => return Ended::Lost(format!("connect: {error}")),
            Err(_) => return Ended::Lost("connect timed out".into()),
        };
        self.counters.connects.fetch_add(1, Ordering::Relaxed);
        let (mut sink, mut frames) = socket.split();
        let mut subscribed = self.assets.borrow_and_update().clone();
        if let Err(error) = sink
            .send(Message::text(subscribe_message(&subscribed)))
            .await
        {
            return Ended::Lost(format!("subscribe: {error}"));
        }
        tracing::info!(assets = subscribed.len(), "market stream subscribed");
        let mut ping = tokio::time::interval(self.settings.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping.tick().await;
        let mut last_frame = Instant::now();
        loop {
            let silence = tokio::time::sleep_until(last_frame + self.settings.silence_limit);
            tokio::select! {
                _ = shutdown.changed() => {
                    let _ = sink.send(Message::Close(None)).await;
                    return Ended::Shutdown;
                }
                () = silence => return Ended::Lost("silent past the limit".into()),
                _ = ping.tick() => {
                    if let Err(error) = sink.send(Message::text("PING")).await {
                        return Ended::Lost(format!("ping: {error}"));
                    }
                }
                changed = self.assets.changed() => {
                    if changed.is_err() {
                        return Ended::Shutdown;
                    }
                    let wanted = self.assets.borrow_and_update().clone();
                    let added: BTreeSet<String> = wanted.difference(&subscribed).cloned().collect();
                    let removed: BTreeSet<String> = subscribed.difference(&wanted).cloned().collect();
                    for (subscribe, assets) in [(true, added), (false, removed)] {
                        if assets.is_empty() {
                            continue;
                        }
                        if let Err(error) = sink.send(Message::text(update_message(subscribe, &assets))).await {
                            return Ended::Lost(format!("update: {error}"));
                        }
                    }
                    subscribed = wanted;
                }
                frame = frames.next() => {
                    last_frame = Instant::now();
                    match frame {
                        None => return Ended::Lost("closed".into()),
                        Some(Err(error)) => return Ended::Lost(error.to_string()),
                        Some(Ok(Message::Close(_))) => return Ended::Lost("closed by the venue".into()),
                        Some(Ok(Message::Text(text))) => {
                            for asset in traded_assets(text.as_str()) {
                                if subscribed.contains(&asset) {
                                    self.counters.wakeups.fetch_add(1, Ordering::Relaxed);
                                    // A full queue already holds wake-ups; the poll they
                                    // start reads this trade too.
                                    let _ = self.wake.try_send(asset);
                                }
                            }
                        }
                        Some(Ok(_)) => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trades_on_an_asset_wake_and_arrays_are_read_whole() {
        let frame = r#"[{"event_type":"last_trade_price","asset_id":"1","price":"0.5"},
            {"event_type":"book","asset_id":"2"},
            {"event_type":"last_trade_price","asset_id":"3"}]"#;
        assert_eq!(traded_assets(frame), vec!["1".to_string(), "3".to_string()]);
        assert_eq!(
            traded_assets(r#"{"event_type":"last_trade_price","asset_id":"9"}"#),
            vec!["9".to_string()]
        );
        assert!(traded_assets("PONG").is_empty());
        assert!(traded_assets(r#"{"event_type":"price_change"}"#).is_empty());
    }

    #[test]
    fn the_router_wakes_the_wallets_that_trade_an_asset_and_forgets_removed_ones() {
        let mut router = Router::default();
        router.note("0xAA", "1");
        router.note("0xbb", "1");
        router.note("0xbb", "2");
        assert_eq!(router.wallets_for("1"), vec!["0xaa", "0xbb"]);
        assert!(router.wallets_for("3").is_empty());
        router.retain_wallets(&BTreeSet::from(["0xaa".to_string()]));
        assert_eq!(router.wallets_for("1"), vec!["0xaa"]);
        assert_eq!(router.assets(), BTreeSet::from(["1".to_string()]));
    }

    #[test]
    fn messages_have_the_venues_shape() {
        let assets = BTreeSet::from(["7".to_string()]);
        let first: serde_json::Value = serde_json::from_str(&subscribe_message(&assets)).unwrap();
        assert_eq!(first["type"], "market");
        assert_eq!(first["assets_ids"], serde_json::json!(["7"]));
        let update: serde_json::Value =
            serde_json::from_str(&update_message(false, &assets)).unwrap();
        assert_eq!(update["operation"], "unsubscribe");
    }
}
