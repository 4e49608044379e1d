//! Decision-worker cycle time on real PostgreSQL (from `TEST_DATABASE_URL`) with the rule
//! model: 1,000 active clones (env `BENCH_CLONES`), each with the default strategy published
//! and an audition account, over 60 hourly BTC candles whose last bar fires the strategy's
//! entry. Seeds once, then times `run_cycle` over the whole roster:
//!
//! - `new slot` cycles (env `BENCH_CYCLES`, default 3): every clone decides, records a run with
//!   one action and its artifact, and prop-engine fills one order;
//! - a `same slot` cycle: every delivery finds its run and has nothing left to execute.
//!
//! Run with `TEST_DATABASE_URL=... cargo bench -p clones-ai-decision --bench cycle`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use clones_ai_decision::{Assignment, AssignmentContext, DecisionSettings, FixedRoster};
use clones_clone_service::provisioning::{self, PaidClone};
use clones_ingest::{Batch, Candle, IngestService, NewInstrument};
use clones_kernel::{Clock, FixedClock};
use clones_market::InstrumentKey;
use clones_prop_engine::{AccountContext, OpenAccount, RiskLimits};
use clones_test_db::TestDb;
use clones_wiring::{PropFeed, ServiceSettings, Services};
use rust_decimal::Decimal;
use uuid::Uuid;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn key() -> InstrumentKey {
    InstrumentKey::perp("replay", "BTC").unwrap()
}

async fn seed_market(ingest: &dyn IngestService, now: DateTime<Utc>) {
    let last_open =
        DateTime::from_timestamp(now.timestamp() - now.timestamp().rem_euclid(3600) - 3600, 0)
            .unwrap();
    let mut batch = Batch {
        instruments: vec![NewInstrument::bare(key())],
        ..Batch::default()
    };
    for i in 0..60i64 {
        let price = if i == 59 {
            Decimal::from(500)
        } else {
            Decimal::from(200 - i)
        };
        batch.candles.push((
            key(),
            clones_market::Timeframe::H1,
            Candle {
                open_time: last_open - Duration::hours(59 - i),
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Decimal::ONE,
                trades: None,
            },
        ));
    }
    batch.mids.push((key(), now, Decimal::from(500)));
    ingest
        .store_batch("bench", "seed", now, 1, batch)
        .await
        .unwrap();
}

async fn mid(ingest: &dyn IngestService, at: DateTime<Utc>) {
    let batch = Batch {
        mids: vec![(key(), at, Decimal::from(500))],
        ..Batch::default()
    };
    ingest
        .store_batch("bench", "mid", at, 1, batch)
        .await
        .unwrap();
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_order_notional: Decimal::from(1_000_000),
        max_leverage: Decimal::from(50),
        max_position_notional: Decimal::from(100_000_000),
        max_gross_exposure: Decimal::from(100_000_000),
        daily_loss_limit: Decimal::from(1_000_000),
        max_orders_per_minute: 10_000,
        allowed_instruments: None,
    }
}

#[tokio::main]
async fn main() {
    clones_runtime::install_tls_provider();
    let clones_count = env_or("BENCH_CLONES", 1_000);
    let cycles = env_or("BENCH_CYCLES", 3);
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let clock = FixedClock::at(DateTime::<Utc>::from_str("2026-11-22T12:00:30Z").unwrap());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let settings = DecisionSettings::default();
    let concurrency = settings.concurrency;
    let services = Services::new(
        db.db().clone(),
        shared,
        ServiceSettings {
            decisions: settings,
            prop_feed: PropFeed::MarketMemory,
            ..ServiceSettings::default()
        },
    );
    let (access, clones, ingest, prop) = (
        services.access.as_ref(),
        services.clones.as_ref(),
        services.ingest.as_ref(),
        services.prop.as_ref(),
    );
    seed_market(ingest, clock.now()).await;

    let seeding = Instant::now();
    let mut assignments = Vec::with_capacity(clones_count);
    let mut owner = Uuid::nil();
    for i in 0..clones_count {
        // Ten clones per owner.
        if i % 10 == 0 {
            let wallet = format!("0x{:040x}", i + 1);
            owner = access.provision_wallet(&wallet, 31337).await.unwrap().0;
        }
        let clone_id = Uuid::new_v4();
        let at = clock.now();
        let paid_owner = owner;
        db.db()
            .tenant_transaction(owner, move |conn| {
                provisioning::create_paid_clone(
                    conn,
                    &PaidClone {
                        clone_id,
                        owner_user_id: paid_owner,
                        purchase_id: Uuid::new_v4(),
                        display_name: "Bench".into(),
                    },
                    at,
                )
            })
            .await
            .unwrap();
        clones.publish(owner, clone_id).await.unwrap();
        let account = prop
            .open_account(
                owner,
                OpenAccount {
                    account_id: None,
                    clone_id: Some(clone_id),
                    context: AccountContext::Audition,
                    quote_currency: "USDC".into(),
                    starting_balance: Decimal::from(100_000),
                    limits: Some(limits()),
                },
            )
            .await
            .unwrap();
        assignments.push(Assignment {
            clone_id,
            owner_user_id: owner,
            account_id: account.id,
            context: AssignmentContext::Audition,
            reference_id: Uuid::new_v4(),
        });
    }
    println!(
        "seeded {clones_count} clones with published strategies and audition accounts in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let service = services.decisions.as_ref();
    let roster = FixedRoster::new(assignments);
    let limit = u32::try_from(clones_count).unwrap();
    for cycle in 0..cycles {
        if cycle > 0 {
            clock.advance(Duration::seconds(60));
            mid(ingest, clock.now()).await;
        }
        let started = Instant::now();
        let stats = service.run_cycle(&roster, limit).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(stats.failures, 0, "{stats:?}");
        println!(
            "new slot cycle {}: {} runs ({} decided), {} orders in {:.2} s = {:.0} decisions/s (concurrency {concurrency})",
            cycle + 1,
            stats.runs_created,
            stats.decided,
            stats.orders_created,
            secs,
            stats.runs_created as f64 / secs
        );
    }
    let started = Instant::now();
    let stats = service.run_cycle(&roster, limit).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "same slot cycle: {} repeated deliveries, {} orders in {:.2} s = {:.0} deliveries/s",
        stats.runs_repeated,
        stats.orders_created,
        secs,
        stats.runs_repeated as f64 / secs
    );
}
