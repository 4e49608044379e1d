//! Wake-ups from the market stream turned into polls: each traded asset wakes the wallets the
//! [`Router`] has seen trade it, each such wallet is polled at once through the same
//! [`Watcher`] the interval uses (the ledger's key makes a poll that overlaps another
//! harmless), and, because the Data API indexes a trade a little after the market reports it,
//! polled again after `followup`, twice that, and so on up to `retries` times, until a poll
//! mirrors something.
//!
//! Wake-ups that arrive during a round of polls are coalesced into the next round, so a burst
//! of trades on one asset costs one poll per wallet, not one per trade.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clones_kernel::Clock;
use tokio::sync::{mpsc, watch};

use crate::stream::Router;
use crate::watch::{PollReport, Watcher};

/// What the drain has done since it started.
#[derive(Debug, Default)]
pub struct WakeCounters {
    /// Polls started by a wake-up (follow-ups included).
    pub polls: AtomicU64,
    /// Of them, polls that failed.
    pub errors: AtomicU64,
    /// Orders placed by those polls.
    pub placed: AtomicU64,
}

/// The shared router and the asset set the stream subscribes to, kept in step.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    router: Arc<Mutex<Router>>,
    assets: watch::Sender<BTreeSet<String>>,
}

impl Subscriptions {
    /// An empty router, and the receiver the stream follows.
    pub fn new() -> (Self, watch::Receiver<BTreeSet<String>>) {
        let (assets, receiver) = watch::channel(BTreeSet::new());
        (
            Self {
                router: Arc::default(),
                assets,
            },
            receiver,
        )
    }

    /// Learns the assets one poll of `wallet` read.
    pub fn learn(&self, wallet: &str, report: &PollReport) {
        if let Ok(mut router) = self.router.lock() {
            for asset in &report.assets {
                router.note(wallet, asset);
            }
        }
        self.publish();
    }

    /// Forgets wallets no tenant watches any more.
    pub fn retain_wallets(&self, watched: &BTreeSet<String>) {
        if let Ok(mut router) = self.router.lock() {
            router.retain_wallets(watched);
        }
        self.publish();
    }

    /// The wallets a trade on `asset` wakes.
    pub fn wallets_for(&self, asset: &str) -> Vec<String> {
        self.router
            .lock()
            .map(|router| router.wallets_for(asset))
            .unwrap_or_default()
    }

    fn publish(&self) {
        let assets = self
            .router
            .lock()
            .map(|router| router.assets())
            .unwrap_or_default();
        self.assets.send_if_modified(|current| {
            let changed = *current != assets;
            if changed {
                *current = assets;
            }
            changed
        });
    }
}

/// Polls the wallets each wake-up names.
pub struct WakeDrain {
    subscriptions: Subscriptions,
    watcher: Arc<Watcher>,
    clock: Arc<dyn Clock>,
    followup: Followup,
    counters: Arc<WakeCounters>,
}

/// When a woken wallet whose poll found nothing is polled again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followup {
    /// The first delay; each next one doubles.
    pub first: Duration,
    /// Polls after the first, at most.
    pub retries: u32,
}

impl Followup {
    /// No follow-up polls.
    pub const NONE: Followup = Followup {
        first: Duration::ZERO,
        retries: 0,
    };
}

impl WakeDrain {
    /// A drain polling through `watcher`.
    pub fn new(
        subscriptions: Subscriptions,
        watcher: Arc<Watcher>,
        clock: Arc<dyn Clock>,
        followup: Followup,
        counters: Arc<WakeCounters>,
    ) -> Self {
        Self {
            subscriptions,
            watcher,
            clock,
            followup,
            counters,
        }
    }

    /// Runs until the stream's sender is gone.
    pub async fn run(self, mut wake: mpsc::Receiver<String>) {
        let this = Arc::new(self);
        while let Some(first) = wake.recv().await {
            let mut assets = BTreeSet::from([first]);
            while let Ok(asset) = wake.try_recv() {
                assets.insert(asset);
            }
            let wallets: BTreeSet<String> = assets
                .iter()
                .flat_map(|asset| this.subscriptions.wallets_for(asset))
                .collect();
            for wallet in wallets {
                let mirrored = this.poll(&wallet).await;
                if !mirrored && this.followup.retries > 0 {
                    let again = this.clone();
                    tokio::spawn(async move {
                        let mut delay = again.followup.first;
                        for _ in 0..again.followup.retries {
                            tokio::time::sleep(delay).await;
                            if again.poll(&wallet).await {
                                return;
                            }
                            delay = delay.saturating_mul(2);
                        }
                    });
                }
            }
        }
    }

    /// One poll; whether it mirrored anything new (placed or skipped with a decision).
    async fn poll(&self, wallet: &str) -> bool {
        self.counters.polls.fetch_add(1, Ordering::Relaxed);
        match self.watcher.poll(wallet, self.clock.now()).await {
            Ok(report) => {
                self.subscriptions.learn(wallet, &report);
                let placed = u64::try_from(report.tick.placed).unwrap_or(u64::MAX);
                self.counters.placed.fetch_add(placed, Ordering::Relaxed);
                report.tick.placed + report.tick.skipped + report.tick.errors > 0
            }
            Err(error) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(wallet, %error, "mirror wake-up poll failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_follows_what_polls_learn_and_forgets_unwatched_wallets() {
        let (subscriptions, assets) = Subscriptions::new();
        let report = PollReport {
            assets: BTreeSet::from(["1".to_string(), "2".to_string()]),
            ..PollReport::default()
        };
        subscriptions.learn("0xaa", &report);
        assert_eq!(assets.borrow().len(), 2);
        assert_eq!(subscriptions.wallets_for("2"), vec!["0xaa"]);
        subscriptions.retain_wallets(&BTreeSet::new());
        assert!(assets.borrow().is_empty());
    }
}
