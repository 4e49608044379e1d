//! Mirror latency on real PostgreSQL (from `TEST_DATABASE_URL`; point it at a durable cluster,
//! `PG_PORT=55470 scripts/pg start bench`, since the claim's durability is what is measured):
//! for each of `BENCH_EVENTS` (default 500) target fills, the time from handing the fill to
//! the pipeline to (a) the order request reaching the executor, which happens only after the
//! claim committed, and (b) the executor's answer, for the paper executor (prop-engine on
//! market memory) and an in-process stub venue that answers at once.
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
use clones_copy_mirror::{
    CopyTradeService, CopyTradeSettings, DataApiTrade, ExecError, Executor, ExecutorKind,
    GrantRequest, IdempotencyKey, MirrorIntent, NewTarget, PaperExecutor, PgCopyTradeService,
    Placement, Route, Sizing, TradeSide, normalise,
};
use clones_ingest::{Batch, NewInstrument, NewPredictionMarket};
use clones_kernel::{Clock, FixedClock};
use clones_market::InstrumentKey;
use clones_test_db::TestDb;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use rust_decimal::Decimal;

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

/// A venue that accepts every order at once.
struct Instant0;

#[async_trait]
impl Executor for Instant0 {
    fn name(&self) -> &'static str {
        "clob"
    }

    async fn place(
        &self,
        _: Route,
        _: &MirrorIntent,
        key: &IdempotencyKey,
    ) -> Result<Placement, ExecError> {
        Ok(Placement::Accepted {
            venue_order_id: key.to_hex(),
            filled: Decimal::ZERO,
            done: false,
        })
    }

    async fn reconcile(
        &self,
        _: Route,
        _: &MirrorIntent,
        _: &IdempotencyKey,
    ) -> Result<Option<Placement>, ExecError> {
        Ok(None)
    }
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
    let inner: Arc<dyn Executor> = match executor {
        ExecutorKind::Paper => Arc::new(PaperExecutor::new(services.prop.clone())),
        ExecutorKind::Clob => Arc::new(Instant0),
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
                executor: Some(executor),
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

#[tokio::main]
async fn main() {
    clones_runtime::install_tls_provider();
    let events = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(500);
    run("paper", ExecutorKind::Paper, events).await;
    run("stub", ExecutorKind::Clob, events).await;
}
