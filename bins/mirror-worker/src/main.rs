//! Mirrors copy-trade targets: each cycle reads the enumerator (every tenant's active targets,
//! the one read across tenants), leases its share of the watched wallets (replicas split them
//! by rendezvous hashing), polls each once through the Data API for all the tenants that
//! follow it, runs the pipeline (claim before place, at most once per fill),
//! reconciles orders left pending by a crash or an ambiguous answer, reads placed orders
//! back from their venue, and checks tenant CLOB wallets' Data API positions against the
//! ledger. Live orders trade through each tenant's own CLOB wallet (`MIRROR_CLOB_ACCOUNTS=tenant`,
//! the default with a keyring) or the operator's house account (`house`). Between cycles, one market WebSocket for every tenant's targets wakes
//! a poll of the wallets that trade an asset as soon as it trades.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use clap::Parser;
use clones_copy_mirror::clob::{ClobExecutor, HouseAccount};
use clones_copy_mirror::settings::{ClobAccountsMode, ClobArgs, StreamArgs, WatchArgs};
use clones_copy_mirror::stream::{MarketStream, StreamCounters};
use clones_copy_mirror::wakeup::{Subscriptions, WakeCounters, WakeDrain};
use clones_copy_mirror::watch::Watcher;
use clones_copy_mirror::{CopyTradeService, CopyTradeSettings, Executor};
use clones_kernel::Clock;
use clones_runtime::settings::WorkerArgs;
use clones_runtime::{Cycle, CycleError, CycleReport, WorkerSettings};
use clones_wiring::{PropFeed, ServiceSettings, Services};

/// Settings of the mirror worker.
#[derive(Debug, Parser)]
#[command(name = "mirror-worker", version)]
struct Settings {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Seconds between polls of every watched wallet.
    #[arg(long, env = "MIRROR_WORKER_INTERVAL_SECS", default_value_t = 10)]
    interval_secs: u64,
    #[command(flatten)]
    watch: WatchArgs,
    #[command(flatten)]
    stream: StreamArgs,
    #[command(flatten)]
    clob: ClobArgs,
    /// The keys that seal tenants' CLOB wallets.
    #[command(flatten)]
    secrets: clones_secrets::SecretsArgs,
}

impl WorkerSettings for Settings {
    const NAME: &'static str = "mirror-worker";

    fn worker(&self) -> &WorkerArgs {
        &self.worker
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }
}

struct Mirror {
    service: Arc<dyn CopyTradeService>,
    /// This replica's name in the wallet leases.
    holder: String,
    /// How long a lease and this replica's presence last without renewal.
    lease_ttl: chrono::Duration,
    watcher: Arc<Watcher>,
    clock: Arc<dyn Clock>,
    subscriptions: Subscriptions,
    stream: Arc<StreamCounters>,
    wakes: Arc<WakeCounters>,
    /// Dropped with the cycle when the worker stops, which closes the stream.
    _stream_stop: tokio::sync::watch::Sender<bool>,
    /// Event counts of the cycles since the runtime last took them.
    events: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl Mirror {
    fn count(&self, counts: &[(&'static str, usize)]) {
        if let Ok(mut events) = self.events.lock() {
            for (event, count) in counts {
                *events.entry(event).or_default() += u64::try_from(*count).unwrap_or(u64::MAX);
            }
        }
    }
}

#[async_trait]
impl Cycle for Mirror {
    async fn run_cycle(&self) -> Result<CycleReport, CycleError> {
        let watched = self.service.watched().await?;
        // Replicas split the wallets: this one polls only those it wins and leases.
        let wallets = self
            .service
            .lease_wallets(&self.holder, &watched.wallets(), self.lease_ttl)
            .await?;
        self.subscriptions
            .retain_wallets(&wallets.iter().cloned().collect::<BTreeSet<_>>());
        let (mut placed, mut skipped, mut duplicates, mut errors, mut tick_errors) =
            (0, 0, 0, 0, 0);
        for wallet in &wallets {
            match self.watcher.poll(wallet, self.clock.now()).await {
                Ok(report) => {
                    self.subscriptions.learn(wallet, &report);
                    placed += report.tick.placed;
                    skipped += report.tick.skipped;
                    duplicates += report.tick.duplicates;
                    errors += report.tick.errors;
                }
                Err(error) => {
                    tick_errors += 1;
                    tracing::warn!(wallet, %error, "mirror poll failed");
                }
            }
        }
        let recovered = self.service.recover().await?;
        let synced = self.service.sync().await?;
        let positions = self
            .service
            .check_positions(self.watcher.data_api())
            .await?;
        self.count(&[
            ("decisions_placed", placed + recovered.placed),
            ("decisions_skipped", skipped),
            ("decisions_error", errors + recovered.errors),
            ("duplicates", duplicates),
            ("tick_errors", tick_errors),
            ("unresolved", recovered.unresolved),
            ("sync_changed", synced.changed),
            ("sync_unreachable", synced.unreachable),
            ("positions_checked", positions.tenants),
            ("positions_mismatched", positions.mismatched),
            ("positions_unreachable", positions.unreachable),
        ]);
        tracing::info!(
            wallets = wallets.len(),
            watched_wallets = watched.wallets().len(),
            targets = watched.target_count(),
            placed,
            skipped,
            duplicates,
            errors,
            tick_errors,
            recovered = recovered.placed,
            unresolved = recovered.unresolved,
            synced = synced.checked,
            sync_changed = synced.changed,
            sync_unknown = synced.unknown,
            sync_unreachable = synced.unreachable,
            positions_checked = positions.tenants,
            positions_mismatched = positions.mismatched,
            positions_unreachable = positions.unreachable,
            stream_connects = self.stream.connects.load(Ordering::Relaxed),
            wakeups_since_last = self.stream.wakeups.load(Ordering::Relaxed),
            wake_polls_since_last = self.wakes.polls.load(Ordering::Relaxed),
            "mirror cycle"
        );
        Ok(CycleReport {
            items: u64::try_from(placed + skipped + recovered.placed).unwrap_or(u64::MAX),
        })
    }

    fn take_events(&self) -> Vec<(&'static str, u64)> {
        let mut events: Vec<(&'static str, u64)> = self
            .events
            .lock()
            .map(|mut events| std::mem::take(&mut *events).into_iter().collect())
            .unwrap_or_default();
        // The stream and its wake-up polls count between cycles; taken as deltas here.
        events.extend([
            ("wakeups", self.stream.wakeups.swap(0, Ordering::Relaxed)),
            (
                "stream_disconnects",
                self.stream.disconnects.swap(0, Ordering::Relaxed),
            ),
            ("wake_polls", self.wakes.polls.swap(0, Ordering::Relaxed)),
            (
                "wake_poll_errors",
                self.wakes.errors.swap(0, Ordering::Relaxed),
            ),
            ("wake_placed", self.wakes.placed.swap(0, Ordering::Relaxed)),
        ]);
        events
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    let settings = Settings::parse();
    let keyring = settings.secrets.keyring()?.map(Arc::new);
    let clob_accounts = settings
        .clob
        .accounts_mode(keyring.is_some())
        .map_err(anyhow::Error::msg)?;
    // The house account is read (and its API credentials derived) before the worker starts,
    // so a wrong key stops start-up with its reason instead of failing every order.
    let clob: Option<Arc<dyn Executor>> = match clob_accounts {
        ClobAccountsMode::Tenant => None,
        ClobAccountsMode::House => settings
            .clob
            .account(Arc::new(clones_kernel::SystemClock))
            .await
            .map_err(anyhow::Error::msg)?
            .map(|account| {
                Arc::new(ClobExecutor::new(Arc::new(HouseAccount(Arc::new(account)))))
                    as Arc<dyn Executor>
            }),
    };
    clones_runtime::worker_main(move |settings: &Settings, context| {
        let clock = context.clock.clone();
        // Paper orders execute against market memory's outcome prices.
        let services = Services::new(
            context.db,
            context.clock,
            ServiceSettings {
                prop_feed: PropFeed::MarketMemory,
                clob,
                clob_accounts,
                keyring,
                copy_trade: CopyTradeSettings {
                    clob: settings.clob.venue.to_settings(),
                    positions_every: settings.clob.positions_every(),
                    ..CopyTradeSettings::default()
                },
                ..ServiceSettings::default()
            },
        );
        let watcher = Arc::new(Watcher::new(
            services.copy_trade.clone(),
            settings.watch.to_settings(),
        )?);
        let (subscriptions, assets) = Subscriptions::new();
        let (stream, wakes) = (
            Arc::new(StreamCounters::default()),
            Arc::new(WakeCounters::default()),
        );
        let (stream_stop, stopped) = tokio::sync::watch::channel(false);
        if let Some(stream_settings) = settings.stream.to_settings() {
            let (wake_tx, wake_rx) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(
                MarketStream::new(stream_settings, assets, wake_tx, stream.clone()).run(stopped),
            );
            tokio::spawn(
                WakeDrain::new(
                    subscriptions.clone(),
                    watcher.clone(),
                    clock.clone(),
                    settings.stream.followup(),
                    wakes.clone(),
                )
                .run(wake_rx),
            );
        }
        // Three missed cycles before another replica takes this one's wallets.
        let lease_ttl = chrono::Duration::seconds(
            i64::try_from(settings.interval_secs.saturating_mul(3)).unwrap_or(i64::MAX / 1_000),
        );
        Ok(Mirror {
            service: services.copy_trade,
            holder: format!("mirror-{}", uuid::Uuid::new_v4().simple()),
            lease_ttl,
            watcher,
            clock,
            subscriptions,
            stream,
            wakes,
            _stream_stop: stream_stop,
            events: std::sync::Mutex::default(),
        })
    })
    .await?;
    Ok(())
}
