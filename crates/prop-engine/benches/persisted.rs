//! Persisted throughput on real PostgreSQL (from `TEST_DATABASE_URL`), bounded in size:
//!
//! - `place_order`: market orders through `PgPropService::place_order`, each one transaction
//!   with gates, fill, position, fills, ledger event, entries and balances; sequential on one
//!   account, then 4 accounts in parallel. Reports orders per second.
//! - `mark_to_market`: one `mark_to_market(10_000)` cycle over 10 000 accounts, each holding
//!   a BTC position (seeded with SQL). Reports the cycle time.
//!
//! Run with `TEST_DATABASE_URL=... cargo bench -p clones-prop-engine --bench persisted`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::sync::Arc;
use std::time::Instant;

use clones_kernel::SystemClock;
use clones_market::Side;
use clones_prop_engine::{
    AccountContext, FixedMarketFeed, OpenAccount, OrderRequest, PgPropService, PropService,
    PropSettings, RiskLimits, TimeInForce,
};
use clones_test_db::TestDb;
use diesel::connection::SimpleConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

const BTC: &str = "hyperliquid:perp:BTC";
const ORDERS: usize = 1_000;
const ACCOUNTS: u32 = 10_000;

fn limits() -> RiskLimits {
    RiskLimits {
        max_orders_per_minute: 1_000_000 / 100,
        max_leverage: Decimal::from(50),
        ..RiskLimits::for_balance(Decimal::from(1_000_000_000))
    }
}

async fn open(prop: &PgPropService, owner: Uuid) -> Uuid {
    prop.open_account(
        owner,
        OpenAccount {
            account_id: None,
            clone_id: None,
            context: AccountContext::Backtest,
            quote_currency: "USDC".into(),
            starting_balance: Decimal::from(1_000_000_000),
            limits: Some(limits()),
        },
    )
    .await
    .unwrap()
    .id
}

async fn orders(prop: &PgPropService, owner: Uuid, account: Uuid, count: usize) {
    for i in 0..count {
        let request = OrderRequest {
            decision_action_id: Some(format!("bench-{account}-{i}")),
            instrument: BTC.into(),
            side: if i % 3 == 0 { Side::Sell } else { Side::Buy },
            size: Decimal::new(1 + (i as i64 % 7), 2),
            limit_price: None,
            reduce_only: false,
            time_in_force: TimeInForce::Ioc,
        };
        prop.place_order(owner, account, request).await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("TEST_DATABASE_URL is not set; skipping the persisted benchmarks");
        return;
    }
    let db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let feed = FixedMarketFeed::new();
    let prop = PgPropService::new(
        db.db().clone(),
        Arc::new(SystemClock),
        Arc::new(feed.clone()),
        PropSettings::default(),
    );
    let mut owner_conn = db.owner_connection().unwrap();
    let owner = Uuid::new_v4();
    owner_conn
        .batch_execute(&format!(
            "INSERT INTO users (id, created_at) VALUES ('{owner}', now())"
        ))
        .unwrap();

    // Keep the quote fresh for the whole run.
    let refresher = {
        let feed = feed.clone();
        tokio::spawn(async move {
            loop {
                feed.set_mid(BTC, Decimal::from(100_000), chrono::Utc::now());
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;

    let account = open(&prop, owner).await;
    orders(&prop, owner, account, 50).await; // warm-up
    let started = Instant::now();
    orders(&prop, owner, account, ORDERS).await;
    let elapsed = started.elapsed();
    println!(
        "place_order/sequential: {ORDERS} orders in {:.2?} = {:.0} orders/s",
        elapsed,
        ORDERS as f64 / elapsed.as_secs_f64()
    );

    let mut accounts = Vec::new();
    for _ in 0..4 {
        accounts.push(open(&prop, owner).await);
    }
    let started = Instant::now();
    let per = ORDERS / 4;
    futures_util::future::join_all(accounts.iter().map(|a| orders(&prop, owner, *a, per))).await;
    let elapsed = started.elapsed();
    println!(
        "place_order/4_accounts_parallel: {} orders in {:.2?} = {:.0} orders/s",
        per * 4,
        elapsed,
        (per * 4) as f64 / elapsed.as_secs_f64()
    );
    // Mark the accounts used so far, so the timed cycle below covers exactly the seeded ones.
    prop.mark_to_market(100).await.unwrap();

    // 10 000 accounts with one BTC position each, seeded in bulk.
    let seed = format!(
        "INSERT INTO prop_accounts (id, owner_user_id, context, quote_currency, starting_balance, status, day_anchor, day_start_equity, peak_equity, created_at, updated_at)
             SELECT md5('acct' || g)::uuid, '{owner}', 'arena', 'USDC', 100000, 'active', current_date, 100000, 100000, now(), now()
             FROM generate_series(1, {ACCOUNTS}) g;
         INSERT INTO prop_account_limits (account_id, owner_user_id, max_order_notional, max_leverage, max_position_notional, max_gross_exposure, daily_loss_limit, max_orders_per_minute, updated_at)
             SELECT md5('acct' || g)::uuid, '{owner}', 100000, 3, 200000, 300000, 5000, 30, now() FROM generate_series(1, {ACCOUNTS}) g;
         INSERT INTO prop_account_balances (account_id, ledger_account, owner_user_id, balance, updated_at)
             SELECT md5('acct' || g)::uuid, 'cash', '{owner}', 100000, now() FROM generate_series(1, {ACCOUNTS}) g;
         INSERT INTO prop_positions (account_id, instrument, owner_user_id, kind, size, avg_entry, realized_pnl, funding_paid, opened_at, updated_at)
             SELECT md5('acct' || g)::uuid, '{BTC}', '{owner}', 'perp', (g % 7) + 1, 95000, 0, 0, now(), now() FROM generate_series(1, {ACCOUNTS}) g;
         ANALYZE;"
    );
    owner_conn.batch_execute(&seed).unwrap();
    let started = Instant::now();
    let report = prop.mark_to_market(ACCOUNTS).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(report.accounts, u64::from(ACCOUNTS));
    println!(
        "mark_to_market: {} accounts in {:.2?} ({:.0} accounts/s)",
        report.accounts,
        elapsed,
        report.accounts as f64 / elapsed.as_secs_f64()
    );
    refresher.abort();
}
