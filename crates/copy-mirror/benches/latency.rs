//! Mirror latency on real PostgreSQL (from `TEST_DATABASE_URL`; point it at a durable cluster,
//! `PG_PORT=55470 scripts/pg start bench`, since the claim's durability is what is measured):
//! for each of `BENCH_EVENTS` (default 500) target fills, the time from handing the fill to
//! the pipeline to (a) the order request reaching the executor, which happens only after the
//! claim committed, and (b) the executor's answer, for the paper executor (prop-engine on
//! market memory) and the live CLOB executor against the stub CLOB on 127.0.0.1 (signed
//! orders, HMAC headers, verified by the stub). Then detection lag: `BENCH_DETECT_SAMPLES`
//! (8) trades at phases unrelated to the poll, timed from the trade to its claim, with polls
//! every `BENCH_POLL_SECS` (10) alone and with the market stream's wake-ups, the Data API
//! showing each trade `BENCH_INDEX_DELAY_MS` (300) after it happened.
//!
//! Run with `TEST_DATABASE_URL=... cargo bench -p clones-copy-mirror --bench latency`.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark harness fails loudly"
)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_copy_mirror::clob::{
    ApiCredentials, ClobAccount, ClobClient, ClobExecutor, ClobSettings, HouseAccount, OrderSigner,
    Wallet,
};
use clones_copy_mirror::stream::{MarketStream, StreamCounters, StreamSettings};
use clones_copy_mirror::wakeup::{Followup, Subscriptions, WakeCounters, WakeDrain};
use clones_copy_mirror::{
    CopyTradeService, CopyTradeSettings, DataApiTrade, ExecError, Executor, ExecutorKind,
    GrantRequest, IdempotencyKey, MirrorIntent, NewTarget, PaperExecutor, PgCopyTradeService,
    Placement, Route, Sizing, TradeSide, normalise,
};
use clones_copy_mirror::{WatchSettings, Watcher};
use clones_ingest::{Batch, NewInstrument, NewPredictionMarket};
use clones_kernel::{Clock, FixedClock};
use clones_market::InstrumentKey;
use clones_test_db::TestDb;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use rust_decimal::Decimal;

#[path = "../tests/it/stub.rs"]
#[expect(dead_code, reason = "the bench uses part of the test stubs")]
mod stub;

const TOKEN: &str = "71321045679252212594626385532706912750332728571942532289631379312455583992563";

/// Times when each order request reached the venue and when the venue answered.
struct Timed {
    inner: Arc<dyn Executor>,
    name: &'static str,
    sent: Mutex<Vec<Instant>>,
    answered: Mutex<Vec<Instant>>,
}

#[async_trait]
impl Executor for Timed {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn place(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError> {
        self.sent.lock().unwrap().push(Instant::now());
        let answer = self.inner.place(route, intent, key).await;
        self.answered.lock().unwrap().push(Instant::now());
        answer
    }

    async fn reconcile(
        &self,
        route: Route,
        intent: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError> {
        self.inner.reconcile(route, intent, key).await
    }
}

/// The live executor against the stub CLOB on 127.0.0.1, which verifies every HMAC and
/// order signature and accepts each order as matched.
async fn stub_clob(clock: &FixedClock) -> (Arc<dyn Executor>, stub::Stub) {
    let venue = stub::stub(|request, _| {
        if request.path == "/book" {
            stub::Reply::json(
                200,
                serde_json::json!({"tick_size": "0.01", "min_order_size": "5", "neg_risk": false}),
            )
        } else {
            stub::order_or(request, stub::accepted)
        }
    })
    .await;
    let client = ClobClient::new(
        ClobSettings {
            base_url: venue.url.clone(),
            chain_id: 137,
            ..ClobSettings::default()
        },
        stub::signer(),
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_credentials(ApiCredentials::new(
        stub::API_KEY,
        stub::secret(),
        stub::PASSPHRASE.into(),
    ));
    let account = ClobAccount {
        client,
        signer: OrderSigner::new(stub::signer(), Wallet::Eoa, 137),
    };
    (
        Arc::new(ClobExecutor::new(Arc::new(HouseAccount(Arc::new(account))))),
        venue,
    )
}

/// The benchmark's tenant: a grant for `executor` (paper by default) and a target buying 5 USDC
/// per fill of one wallet; the tenant and the wallet.
async fn tenant(
    services: &Services,
    service: &dyn CopyTradeService,
    executor: Option<ExecutorKind>,
) -> (uuid::Uuid, String) {
    let owner = services
        .access
        .provision_wallet(&format!("0x{}", "ab".repeat(20)), 31337)
        .await
        .unwrap()
        .0;
    service
        .set_grant(
            owner,
            GrantRequest {
                per_order_usdc_cap: Decimal::from(250),
                daily_usdc_cap: Decimal::from(2_500),
                hourly_fills_cap: 60,
                executor,
            },
        )
        .await
        .unwrap();
    let wallet = format!("0x{}", "cd".repeat(20));
    service
        .add_target(
            owner,
            NewTarget {
                wallet: wallet.clone(),
                label: None,
                filter_percentile: None,
                max_usdc_per_trade: Decimal::from(10),
                max_position_usdc: Some(Decimal::from(1_000)),
                sizing: Sizing::Fixed {
                    usdc: Decimal::from(5),
                },
            },
        )
        .await
        .unwrap();
    (owner, wallet)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn seed_price(services: &Services, now: DateTime<Utc>) {
    let key = InstrumentKey::outcome("polymarket", TOKEN).unwrap();
    services
        .ingest
        .store_batch(
            "bench",
            "price",
            now,
            1,
            Batch {
                markets: vec![NewPredictionMarket {
                    market_id: "rain".into(),
                    venue: "polymarket".into(),
                    condition_id: Some(format!("0x{}", "d".repeat(64))),
                    question: "Will it rain?".into(),
                    slug: None,
                    end_date: None,
                    active: true,
                    closed: false,
                    resolved_outcome: None,
                    metadata: serde_json::Value::Null,
                }],
                instruments: vec![NewInstrument {
                    market: Some(("rain".into(), "Yes".into())),
                    ..NewInstrument::bare(key.clone())
                }],
                mids: vec![(key, now, Decimal::from_str("0.49").unwrap())],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
}

async fn run(label: &str, executor: ExecutorKind, events: u64) {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(DateTime::<Utc>::from_str("2026-12-06T12:00:00Z").unwrap());
    let services = Services::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        ServiceSettings {
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    seed_price(&services, clock.now()).await;
    let (inner, _venue): (Arc<dyn Executor>, Option<stub::Stub>) = match executor {
        ExecutorKind::Paper => (Arc::new(PaperExecutor::new(services.prop.clone())), None),
        ExecutorKind::Clob => {
            let (executor, venue) = stub_clob(&clock).await;
            (executor, Some(venue))
        }
    };
    let timed = Arc::new(Timed {
        inner,
        name: executor.as_str(),
        sent: Mutex::new(Vec::new()),
        answered: Mutex::new(Vec::new()),
    });
    let (paper, clob): (Arc<dyn Executor>, Option<Arc<dyn Executor>>) = match executor {
        ExecutorKind::Paper => (timed.clone(), None),
        ExecutorKind::Clob => (
            Arc::new(PaperExecutor::new(services.prop.clone())),
            Some(timed.clone()),
        ),
    };
    let service = PgCopyTradeService::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        services.prop.clone(),
        paper,
        clob,
        CopyTradeSettings {
            paper_balance: Decimal::from(1_000_000),
            ..CopyTradeSettings::default()
        },
    );
    let (owner, wallet) = tenant(&services, &service, Some(executor)).await;
    let mut to_sent = Vec::new();
    let mut to_answer = Vec::new();
    for n in 0..events {
        // The hourly cap allows 60 orders an hour: each event comes an hour after the last.
        clock.advance(chrono::Duration::hours(1));
        seed_price(&services, clock.now()).await;
        // The paper account buys and sells in turn, so its position stays under the cap; the
        // stub venue holds no position, so it only buys.
        let sell = executor == ExecutorKind::Paper && n % 2 == 1;
        let fill = normalise(&DataApiTrade {
            proxy_wallet: wallet.clone(),
            side: if sell {
                TradeSide::Sell
            } else {
                TradeSide::Buy
            },
            asset: TOKEN.into(),
            condition_id: format!("0x{}", "d".repeat(64)),
            size: Decimal::from(20),
            price: Decimal::from_str(if sell { "0.48" } else { "0.5" }).unwrap(),
            timestamp: 1_764_979_200 + i64::try_from(n).unwrap(),
            transaction_hash: format!("0x{n:064x}"),
            outcome: None,
        })
        .unwrap();
        let arrived = Instant::now();
        let report = service
            .mirror(&wallet, std::slice::from_ref(&fill))
            .await
            .unwrap();
        if report.placed != 1 {
            let page = clones_kernel::PageRequest::new(Some(1), None).unwrap();
            let last = service.decisions(owner, page).await.unwrap();
            panic!("event {n}: {report:?} {:?}", last.items.first());
        }
        let sent = *timed.sent.lock().unwrap().last().unwrap();
        let answered = *timed.answered.lock().unwrap().last().unwrap();
        to_sent.push(sent - arrived);
        to_answer.push(answered - arrived);
    }
    to_sent.sort();
    to_answer.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<6} events {events:>5}  arrival -> request sent: p50 {:>6.2} ms  p99 {:>6.2} ms   arrival -> answer: p50 {:>6.2} ms  p99 {:>6.2} ms",
        ms(percentile(&to_sent, 50.0)),
        ms(percentile(&to_sent, 99.0)),
        ms(percentile(&to_answer, 50.0)),
        ms(percentile(&to_answer, 99.0)),
    );
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// Detection lag: a target trades at a moment unrelated to the poll's phase; the Data API
/// shows the trade `index_delay` later; the market channel reports it at once. Timed from
/// the trade to its claim in the ledger, with polls every `interval` alone, or with the
/// market stream's wake-ups as well.
async fn detection(with_stream: bool, samples: u64, interval: Duration, index_delay: Duration) {
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(DateTime::<Utc>::from_str("2026-12-06T12:00:00Z").unwrap());
    let services = Services::new(
        db.db().clone(),
        Arc::new(clock.clone()),
        ServiceSettings {
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    seed_price(&services, clock.now()).await;
    let service = services.copy_trade.clone();
    let (owner, wallet) = tenant(&services, service.as_ref(), None).await;
    let start = clock.now().timestamp();
    let trade = |n: u64, at: i64| {
        serde_json::json!({
            "proxyWallet": wallet, "side": "BUY", "asset": TOKEN,
            "conditionId": format!("0x{}", "d".repeat(64)), "size": 20, "price": 0.5,
            "timestamp": at, "transactionHash": format!("0x{n:064x}"),
        })
    };
    // An old trade teaches the router the asset; it is before the first poll's backlog.
    let trades = Arc::new(Mutex::new(vec![trade(0, start - 3_600)]));
    let api = stub::data_api(trades.clone(), Arc::default()).await;
    let watcher =
        Arc::new(Watcher::new(service.clone(), WatchSettings::new(api.parse().unwrap())).unwrap());
    let (subscriptions, assets) = Subscriptions::new();
    subscriptions.learn(&wallet, &watcher.poll(&wallet, clock.now()).await.unwrap());
    let polling = {
        let (watcher, wallet, clock, subscriptions) = (
            watcher.clone(),
            wallet.clone(),
            clock.clone(),
            subscriptions.clone(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Ok(report) = watcher.poll(&wallet, clock.now()).await {
                    subscriptions.learn(&wallet, &report);
                }
            }
        })
    };
    let channel = stub::channel(false).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if with_stream {
        let (wake_tx, wake_rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(
            MarketStream::new(
                StreamSettings::new(channel.url.parse().unwrap()),
                assets,
                wake_tx,
                Arc::new(StreamCounters::default()),
            )
            .run(stopped),
        );
        tokio::spawn(
            WakeDrain::new(
                subscriptions.clone(),
                watcher.clone(),
                Arc::new(clock.clone()),
                Followup {
                    first: Duration::from_millis(250),
                    retries: 4,
                },
                Arc::new(WakeCounters::default()),
            )
            .run(wake_rx),
        );
        while channel.subscriptions().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let page = clones_kernel::PageRequest::new(Some(500), None).unwrap();
    let mut lags = Vec::new();
    for n in 1..=samples {
        // A phase unrelated to the poll's: a fixed spread of fractions of the interval.
        let phase = interval.mul_f64(((n * 7_919) % 1_000) as f64 / 1_000.0);
        tokio::time::sleep(phase).await;
        let traded = Instant::now();
        let (trades, trade) = (trades.clone(), trade(n, start - 1));
        tokio::spawn(async move {
            tokio::time::sleep(index_delay).await;
            trades.lock().unwrap().push(trade);
        });
        if with_stream {
            let event = serde_json::json!({
                "event_type": "last_trade_price", "asset_id": TOKEN, "price": "0.5",
                "side": "BUY", "size": "20", "timestamp": "0",
            });
            channel.push.send(event.to_string()).unwrap();
        }
        loop {
            let seen = service.fills(owner, page).await.unwrap().items.len();
            if seen as u64 == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags.push(traded.elapsed());
    }
    stop.send(true).ok();
    polling.abort();
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "detection {:<13} poll every {:>4.1} s, index delay {:>4} ms, {samples:>3} trades: p50 {:>8.1} ms  max {:>8.1} ms",
        if with_stream {
            "poll + stream"
        } else {
            "poll only"
        },
        interval.as_secs_f64(),
        index_delay.as_millis(),
        ms(percentile(&lags, 50.0)),
        ms(*lags.last().unwrap()),
    );
}

#[tokio::main]
async fn main() {
    clones_runtime::install_tls_provider();
    let events = env_or("BENCH_EVENTS", 500);
    run("paper", ExecutorKind::Paper, events).await;
    run("clob", ExecutorKind::Clob, events).await;
    let samples = env_or("BENCH_DETECT_SAMPLES", 8);
    let interval = Duration::from_secs(env_or("BENCH_POLL_SECS", 10));
    let index_delay = Duration::from_millis(env_or("BENCH_INDEX_DELAY_MS", 300));
    detection(false, samples, interval, index_delay).await;
    detection(true, samples, interval, index_delay).await;
}
