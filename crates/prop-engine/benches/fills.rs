//! Throughput of in-memory execution: fill simulation plus position, fee and ledger updates.
//!
//! - `fills/mid_slippage`: market orders on a mid-only quote, alternating sides and sizes on
//!   one perp, so positions grow, reduce and flip (realized PnL and fees every time).
//! - `fills/book_walk`: the same orders walking a fresh 10-level book.
//!
//! Throughput is in orders (elements) per second. The inputs are deterministic.
//! Run with `cargo bench -p clones-prop-engine --bench fills`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clones_market::{InstrumentKey, Side};
use clones_prop_engine::fill::simulate;
use clones_prop_engine::{
    Book, FillConfig, Level, MarketQuote, OrderSpec, OrderType, PaperAccount, TimeInForce,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

const ORDERS: u64 = 1_000;

fn orders() -> Vec<OrderSpec> {
    (0..ORDERS)
        .map(|i| OrderSpec {
            side: if i % 3 == 0 { Side::Sell } else { Side::Buy },
            size: Decimal::new(1 + (i as i64 * 7919) % 50, 2),
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
        })
        .collect()
}

fn quote(now: DateTime<Utc>, with_book: bool) -> MarketQuote {
    let book = with_book.then(|| Book {
        observed_at: now,
        bids: (0..10)
            .map(|i| Level {
                price: Decimal::new(100_000 - i * 5, 0),
                size: Decimal::new(10, 2),
            })
            .collect(),
        asks: (0..10)
            .map(|i| Level {
                price: Decimal::new(100_005 + i * 5, 0),
                size: Decimal::new(10, 2),
            })
            .collect(),
    });
    MarketQuote {
        mid: Decimal::new(100_002, 0),
        mid_at: now,
        book,
    }
}

fn run(orders: &[OrderSpec], quote: &MarketQuote, now: DateTime<Utc>, config: &FillConfig) {
    let instrument = InstrumentKey::parse("hyperliquid:perp:BTC").unwrap();
    let (mut account, _) = PaperAccount::open(Decimal::from(1_000_000));
    for order in orders {
        if let Ok(execution) = simulate(order, instrument.kind(), quote, now, config) {
            black_box(account.execute(&instrument, order.side, &execution, &config.fees));
        }
    }
    black_box(account.cash());
}

fn bench(c: &mut Criterion) {
    let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
    let config = FillConfig::default();
    let orders = orders();
    let mut group = c.benchmark_group("fills");
    group.throughput(Throughput::Elements(ORDERS));
    group.measurement_time(Duration::from_secs(5));
    for (name, with_book) in [("mid_slippage", false), ("book_walk", true)] {
        let quote = quote(now, with_book);
        group.bench_function(name, |b| b.iter(|| run(&orders, &quote, now, &config)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
