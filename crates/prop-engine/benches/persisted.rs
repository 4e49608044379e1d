//! Persisted order execution on real PostgreSQL (from `TEST_DATABASE_URL`), measured as an
//! operator would: sustained throughput under concurrency, latency percentiles, a skewed mix,
//! and a reconciliation of every account after each phase.
//!
//! Phases, in order:
//!
//! 1. `latency`: one account, orders placed one after another through
//!    `PropService::place_order`; p50/p90/p99/max latency and orders per second.
//! 2. `uniform`: `BENCH_ACCOUNTS` accounts (64) and `BENCH_CALLERS` concurrent callers (32)
//!    for `BENCH_SECONDS` (60); caller `c` places on accounts `c`, `c + callers`, … in turn,
//!    so the accounts share the load evenly and no two callers wait on one account's lock.
//! 3. `zipf`: the same accounts and callers for the same time, each order's account drawn from
//!    a Zipf law of exponent `BENCH_ZIPF_S` (1.0), so most orders go to a few hot accounts and
//!    callers queue on their row locks.
//! 4. `batched`: `BENCH_BATCH_ACCOUNTS` fresh accounts (1 000) split among
//!    `BENCH_BATCH_CALLERS` callers (2), each sending `PropService::place_orders` batches of
//!    one order per account it owns, for `BENCH_SECONDS`; `0` accounts skips it. This is the
//!    decision cycle's path: one transaction for many accounts' orders.
//! 5. `mark_to_market`: one `mark_to_market` cycle over `BENCH_MTM_ACCOUNTS` (10 000) accounts
//!    each holding a BTC position (seeded with SQL), where every peak rises, then a second
//!    cycle over the same accounts (the steady state: peaks unchanged); `0` skips it.
//!
//! After phases 1–4 every account used is reconciled (`PropService::reconcile`: balances equal
//! the sums of ledger entries, the ledger sums to zero, positions equal the sums of their
//! fills); any drift fails the run. Orders alternate buys and sells of BTC and ETH perps with
//! varying sizes (opening, adding, reducing and flipping positions), each with its own decision
//! action id; accounts may place 10 000 orders a minute (the highest limit an account can have).
//!
//! Settings: `BENCH_POOL` (pool size, default callers + 4), `BENCH_LATENCY_ORDERS` (2 000),
//! `BENCH_OWNERS` (1: the users the accounts of phases 2–3 belong to, in turn),
//! `BENCH_LANES` (2: concurrent `place_order` calls share rounds through
//! `PgPropService::with_order_lanes`; 0 gives each order its own transaction),
//! `BENCH_LANE_BATCH` (64: the most orders a lane's round takes), `BENCH_PG_STATS=1` prints the top statements of the `uniform` phase from
//! `pg_stat_statements` (the cluster must preload it).
//!
//! Run with `TEST_DATABASE_URL=... cargo bench -p clones-prop-engine --bench persisted`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clones_db::{Db, PoolSettings};
use clones_kernel::{Secret, SystemClock};
use clones_market::Side;
use clones_prop_engine::{
    AccountContext, BatchOrder, FixedMarketFeed, OpenAccount, OrderLaneSettings, OrderRequest,
    PgPropService, PropService, PropSettings, RiskLimits, TimeInForce,
};
use clones_test_db::TestDb;
use diesel::connection::SimpleConnection;
use diesel::{QueryableByName, RunQueryDsl};
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use uuid::Uuid;

const BTC: &str = "hyperliquid:perp:BTC";
const ETH: &str = "hyperliquid:perp:ETH";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_orders_per_minute: 10_000,
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

/// The `i`-th order of a stream: two buys then two sells, a fifth of them on ETH.
fn order(tag: &str, i: u64) -> OrderRequest {
    OrderRequest {
        decision_action_id: Some(format!("{tag}-{i}")),
        instrument: if i % 5 == 4 { ETH } else { BTC }.into(),
        side: if i % 4 < 2 { Side::Buy } else { Side::Sell },
        size: Decimal::new(1 + (i as i64 % 7), 2),
        limit_price: None,
        reduce_only: false,
        time_in_force: TimeInForce::Ioc,
    }
}

/// What one caller saw: latencies and outcome counts by status or rejection code.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    outcomes: BTreeMap<String, u64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (key, count) in other.outcomes {
            *self.outcomes.entry(key).or_default() += count;
        }
    }

    async fn place(&mut self, prop: &PgPropService, owner: Uuid, account: Uuid, req: OrderRequest) {
        let started = Instant::now();
        let outcome = prop.place_order(owner, account, req).await.unwrap();
        self.latencies.push(started.elapsed());
        let key = match outcome.order.rejection_code {
            Some(code) => code,
            None => outcome.order.status.as_str().to_string(),
        };
        *self.outcomes.entry(key).or_default() += 1;
    }

    fn report(mut self, phase: &str, elapsed: Duration) {
        self.latencies.sort_unstable();
        let n = self.latencies.len();
        let pct = |p: f64| {
            let index = ((n as f64 * p).ceil() as usize).clamp(1, n.max(1)) - 1;
            self.latencies
                .get(index)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        println!(
            "{phase}: {n} orders in {:.2?} = {:.0} orders/s; latency ms p50 {:.2} p90 {:.2} \
             p99 {:.2} max {:.2}; outcomes {:?}",
            elapsed,
            n as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.90),
            pct(0.99),
            pct(1.0),
            self.outcomes
        );
    }
}

/// Reconciles every account: balances against the ledger, positions against their fills.
async fn reconcile(prop: &PgPropService, phase: &str, accounts: &[Uuid]) {
    let started = Instant::now();
    for account in accounts {
        let report = prop.reconcile(*account).await.unwrap();
        assert!(
            report.balanced,
            "{phase}: account {account} drifted: {report:?}"
        );
    }
    println!(
        "{phase}: reconciled {} accounts in {:.2?}: zero drift",
        accounts.len(),
        started.elapsed()
    );
}

/// Cumulative Zipf weights over `n` ranks with exponent `s`.
fn zipf_table(n: usize, s: f64) -> Vec<f64> {
    let mut total = 0.0;
    (1..=n)
        .map(|rank| {
            total += 1.0 / (rank as f64).powf(s);
            total
        })
        .collect()
}

fn zipf_draw(table: &[f64], rng: &mut impl Rng) -> usize {
    let total = table.last().copied().unwrap_or(1.0);
    let u = rng.random::<f64>() * total;
    table
        .partition_point(|cumulative| *cumulative < u)
        .min(table.len() - 1)
}

/// Runs `callers` concurrent callers for `duration`; `pick(caller, i, rng)` chooses the
/// account index of a caller's `i`-th order.
async fn sustained(
    prop: &PgPropService,
    accounts: &[(Uuid, Uuid)],
    callers: usize,
    duration: Duration,
    phase: &'static str,
    pick: impl Fn(usize, u64, &mut rand::rngs::StdRng) -> usize + Clone + Send + 'static,
) {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let prop = prop.clone();
            let accounts = accounts.to_vec();
            let pick = pick.clone();
            tokio::spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(caller as u64);
                let mut tally = Tally::default();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let (owner, account) = accounts[pick(caller, i, &mut rng)];
                    let req = order(&format!("{phase}-{caller}"), i);
                    tally.place(&prop, owner, account, req).await;
                    i += 1;
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.unwrap());
    }
    tally.report(phase, started.elapsed());
}

/// Fresh statistics after a phase opened its accounts, as a table in service has: the plans
/// of the key checks (cached per connection) otherwise assume the tables are as small as
/// they were when last analyzed.
fn analyze(conn: &mut diesel::PgConnection) {
    conn.batch_execute("ANALYZE").unwrap();
}

/// Phase 4: `callers` callers, each owning an equal share of `count` fresh accounts, send
/// batches of one order per owned account until `duration` has passed.
async fn batched(
    prop: &PgPropService,
    owner_conn: &mut diesel::PgConnection,
    owners: &[Uuid],
    count: usize,
    callers: usize,
    duration: Duration,
) {
    let mut accounts = Vec::with_capacity(count);
    for i in 0..count {
        let owner = owners[i % owners.len()];
        accounts.push((owner, open(prop, owner).await));
    }
    analyze(owner_conn);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let prop = prop.clone();
            let mine: Vec<(Uuid, Uuid)> = accounts
                .iter()
                .skip(caller)
                .step_by(callers)
                .copied()
                .collect();
            tokio::spawn(async move {
                let mut batches = Tally::default();
                let mut orders = 0u64;
                let mut round = 0u64;
                while Instant::now() < deadline {
                    let batch = mine
                        .iter()
                        .map(|&(owner, account_id)| BatchOrder {
                            owner,
                            account_id,
                            request: order(&format!("batched-{account_id}"), round),
                        })
                        .collect();
                    let sent = Instant::now();
                    let results = prop.place_orders(batch).await.unwrap();
                    batches.latencies.push(sent.elapsed());
                    for result in results {
                        let outcome = result.unwrap();
                        let key = match outcome.order.rejection_code {
                            Some(code) => code,
                            None => outcome.order.status.as_str().to_string(),
                        };
                        *batches.outcomes.entry(key).or_default() += 1;
                        orders += 1;
                    }
                    round += 1;
                }
                (batches, orders)
            })
        })
        .collect();
    let mut tally = Tally::default();
    let mut orders = 0;
    for task in tasks {
        let (batches, placed) = task.await.unwrap();
        tally.merge(batches);
        orders += placed;
    }
    let elapsed = started.elapsed();
    println!(
        "batched: {orders} orders in {elapsed:.2?} = {:.0} orders/s ({count} accounts, {callers} \
         callers, {} orders a batch)",
        orders as f64 / elapsed.as_secs_f64(),
        count.div_ceil(callers)
    );
    tally.report("batched (latency per batch)", elapsed);
    let ids: Vec<Uuid> = accounts.iter().map(|(_, account)| *account).collect();
    reconcile(prop, "batched", &ids).await;
}

#[derive(QueryableByName)]
struct StatementRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    query: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    calls: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    total_ms: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    mean_ms: f64,
}

fn print_statements(conn: &mut diesel::PgConnection) {
    let rows: Vec<StatementRow> = diesel::sql_query(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query, calls, \
         total_exec_time AS total_ms, mean_exec_time AS mean_ms FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY total_exec_time DESC LIMIT 15",
    )
    .load(conn)
    .unwrap();
    println!("uniform: top statements by server time (pg_stat_statements):");
    for row in rows {
        println!(
            "  {:>9} calls {:>9.0} ms total {:>7.3} ms mean  {}",
            row.calls, row.total_ms, row.mean_ms, row.query
        );
    }
}

#[tokio::main]
async fn main() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("TEST_DATABASE_URL is not set; skipping the persisted benchmarks");
        return;
    }
    let seconds: u64 = env_or("BENCH_SECONDS", 60);
    let account_count: usize = env_or("BENCH_ACCOUNTS", 64).max(1);
    let callers: usize = env_or("BENCH_CALLERS", 32).max(1);
    let pool: u32 = env_or("BENCH_POOL", callers as u32 + 4);
    let latency_orders: u64 = env_or("BENCH_LATENCY_ORDERS", 2_000);
    let zipf_s: f64 = env_or("BENCH_ZIPF_S", 1.0);
    let mtm_accounts: u32 = env_or("BENCH_MTM_ACCOUNTS", 10_000);
    let pg_stats = std::env::var("BENCH_PG_STATS").is_ok_and(|v| v == "1");
    let owner_count: usize = env_or("BENCH_OWNERS", 1).max(1);
    let batch_accounts: usize = env_or("BENCH_BATCH_ACCOUNTS", 1_000);
    let batch_callers: usize = env_or("BENCH_BATCH_CALLERS", 2).max(1);
    let lanes: usize = env_or("BENCH_LANES", 2);
    let lane_batch: usize = env_or("BENCH_LANE_BATCH", 64).max(1);

    let test_db = tokio::task::spawn_blocking(TestDb::new)
        .await
        .unwrap()
        .unwrap();
    let db = Db::connect(&PoolSettings {
        url: Secret::new(test_db.app_url().to_string()),
        max_size: pool,
        checkout_timeout: Duration::from_secs(30),
    })
    .unwrap();
    let feed = FixedMarketFeed::new();
    let prop = PgPropService::new(
        db,
        Arc::new(SystemClock),
        Arc::new(feed.clone()),
        PropSettings::default(),
    );
    let prop = prop.with_order_lanes(OrderLaneSettings {
        lanes,
        max_batch: lane_batch,
    });
    let mut owner_conn = test_db.owner_connection().unwrap();
    let owners: Vec<Uuid> = (0..owner_count).map(|_| Uuid::new_v4()).collect();
    for owner in &owners {
        owner_conn
            .batch_execute(&format!(
                "INSERT INTO users (id, created_at) VALUES ('{owner}', now())"
            ))
            .unwrap();
    }
    let owner = owners[0];
    let settings: Vec<String> = ["fsync", "synchronous_commit"]
        .iter()
        .map(|name| {
            #[derive(QueryableByName)]
            struct Setting {
                #[diesel(sql_type = diesel::sql_types::Text)]
                setting: String,
            }
            let row: Setting =
                diesel::sql_query(format!("SELECT current_setting('{name}') AS setting"))
                    .get_result(&mut owner_conn)
                    .unwrap();
            format!("{name}={}", row.setting)
        })
        .collect();
    println!(
        "settings: {}, pool {pool}, {account_count} accounts of {owner_count} owners, {callers} \
         callers, {seconds} s per sustained phase, zipf s={zipf_s}, order lanes {lanes} of up \
         to {lane_batch} orders",
        settings.join(", ")
    );

    // Keep the quotes fresh for the whole run.
    let refresher = {
        let feed = feed.clone();
        tokio::spawn(async move {
            loop {
                // A second in the past: an order whose clock read precedes the refresh must
                // still find a quote observed before it.
                let now = chrono::Utc::now() - chrono::Duration::seconds(1);
                feed.set_mid(BTC, Decimal::from(100_000), now);
                feed.set_mid(ETH, Decimal::from(4_000), now);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;

    // 1. One account, sequential.
    let single = open(&prop, owner).await;
    let mut warm = Tally::default();
    for i in 0..100 {
        warm.place(&prop, owner, single, order("warm", i)).await;
    }
    let mut tally = Tally::default();
    let started = Instant::now();
    for i in 0..latency_orders {
        tally.place(&prop, owner, single, order("latency", i)).await;
    }
    tally.report("latency (1 account, sequential)", started.elapsed());
    reconcile(&prop, "latency", &[single]).await;

    // 2. Many accounts, spread evenly over the callers.
    let mut accounts = Vec::with_capacity(account_count);
    for i in 0..account_count {
        let owner = owners[i % owner_count];
        accounts.push((owner, open(&prop, owner).await));
    }
    let account_ids: Vec<Uuid> = accounts.iter().map(|(_, account)| *account).collect();
    analyze(&mut owner_conn);
    if pg_stats {
        owner_conn
            .batch_execute(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();",
            )
            .unwrap();
    }
    let duration = Duration::from_secs(seconds);
    let per_caller = account_count.div_ceil(callers) as u64;
    sustained(
        &prop,
        &accounts,
        callers,
        duration,
        "uniform",
        move |caller, i, _| (caller + callers * (i % per_caller) as usize) % account_count,
    )
    .await;
    if pg_stats {
        print_statements(&mut owner_conn);
    }
    reconcile(&prop, "uniform", &account_ids).await;

    // 3. The same accounts, most orders to a few hot ones.
    let table = Arc::new(zipf_table(account_count, zipf_s));
    println!(
        "zipf: the hottest account draws {:.0} % of orders, the top 4 {:.0} %",
        100.0 * table[0] / table[account_count - 1],
        100.0 * table[3.min(account_count - 1)] / table[account_count - 1]
    );
    sustained(
        &prop,
        &accounts,
        callers,
        duration,
        "zipf",
        move |_, _, rng| zipf_draw(&table, rng),
    )
    .await;
    reconcile(&prop, "zipf", &account_ids).await;

    // 4. Batches of one order per account, as the decision cycle sends them.
    if batch_accounts > 0 {
        batched(
            &prop,
            &mut owner_conn,
            &owners,
            batch_accounts,
            batch_callers,
            duration,
        )
        .await;
    }

    // 5. Mark-to-market over many accounts seeded in bulk.
    if mtm_accounts > 0 {
        prop.mark_to_market(1_000).await.unwrap();
        let seed = format!(
            "INSERT INTO prop_accounts (id, owner_user_id, context, quote_currency, starting_balance, status, day_anchor, day_start_equity, peak_equity, created_at, updated_at)
                 SELECT md5('acct' || g)::uuid, '{owner}', 'arena', 'USDC', 100000, 'active', current_date, 100000, 100000, now(), now()
                 FROM generate_series(1, {mtm_accounts}) g;
             INSERT INTO prop_account_limits (account_id, owner_user_id, max_order_notional, max_leverage, max_position_notional, max_gross_exposure, daily_loss_limit, max_orders_per_minute, updated_at)
                 SELECT md5('acct' || g)::uuid, '{owner}', 100000, 3, 200000, 300000, 5000, 30, now() FROM generate_series(1, {mtm_accounts}) g;
             INSERT INTO prop_account_balances (account_id, ledger_account, owner_user_id, balance, updated_at)
                 SELECT md5('acct' || g)::uuid, 'cash', '{owner}', 100000, now() FROM generate_series(1, {mtm_accounts}) g;
             INSERT INTO prop_positions (account_id, instrument, owner_user_id, kind, size, avg_entry, realized_pnl, funding_paid, opened_at, updated_at)
                 SELECT md5('acct' || g)::uuid, '{BTC}', '{owner}', 'perp', (g % 7) + 1, 95000, 0, 0, now(), now() FROM generate_series(1, {mtm_accounts}) g;
             ANALYZE;"
        );
        owner_conn.batch_execute(&seed).unwrap();
        let started = Instant::now();
        let report = prop.mark_to_market(mtm_accounts).await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(report.accounts, u64::from(mtm_accounts));
        println!(
            "mark_to_market: {} accounts in {:.2?} ({:.0} accounts/s)",
            report.accounts,
            elapsed,
            report.accounts as f64 / elapsed.as_secs_f64()
        );
        // The steady state: the same accounts again, their peaks no longer rising.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let started = Instant::now();
        let report = prop.mark_to_market(mtm_accounts).await.unwrap();
        let elapsed = started.elapsed();
        println!(
            "mark_to_market again: {} accounts in {:.2?} ({:.0} accounts/s)",
            report.accounts,
            elapsed,
            report.accounts as f64 / elapsed.as_secs_f64()
        );
    }
    refresher.abort();
}
