//! Throughput of the rule model: how many bars per second a compiled strategy evaluates.
//!
//! The strategy is an 11-node graph on BTC 1h closes: EMA(12) and EMA(26), a cross up that
//! opens a long (10 % of equity, 5 % stop loss) only while RSI(14) is below 70, and a cross
//! down that closes it. The market data is 10 000 hourly candles (about 14 months) of a
//! deterministic random walk, so every run measures the same work.
//!
//! - `evaluate_history/10000_bars`: a whole-series replay (one step per completed candle), as a
//!   backtest runs it. Throughput is in bars (elements) per second.
//! - `evaluate/latest_bar/{500,10000}_bars`: one decision on the latest bar of a window of that
//!   many candles, as a live decision runs it. Indicators are recomputed over the whole window,
//!   so the cost grows with its length; throughput counts the window's bars.
//!
//! Run with `cargo bench -p clones-strategy --bench evaluate`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::hint::black_box;
use std::time::Duration;

use clones_market::Timeframe;
use clones_strategy::{
    Bar, CompiledPlan, Constraints, MarketWindow, compile_json, evaluate, evaluate_history,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;

/// Candles in the replayed history.
const BARS: usize = 10_000;
/// Candles in the window of a typical live decision (well above the graph's warm-up of 27).
const LIVE_BARS: usize = 500;

/// The strategy, shared with the backtest engine's benchmark.
const STRATEGY: &str = include_str!("ema_rsi_cross.json");

/// A 64-bit linear congruential generator (Knuth's MMIX constants); the high bits are used.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform in `0..bound` (bound well below 2^31, so the bias is negligible).
    fn below(&mut self, bound: u64) -> i64 {
        i64::try_from(self.next() % bound).unwrap()
    }
}

/// `count` hourly BTC candles from time 0: a random walk in cents starting at 30 000.00 with
/// moves of up to ±1 % per hour, plus wicks of up to 0.3 %.
fn hourly_bars(count: usize) -> Vec<Bar> {
    let mut rng = Lcg(0x5eed_c10e);
    let mut price: i64 = 3_000_000;
    (0..count)
        .map(|i| {
            let open = price;
            let change = price * (rng.below(2_001) - 1_000) / 100_000;
            price = (open + change).max(100);
            let close = price;
            let high = open.max(close) + open * rng.below(301) / 100_000;
            let low = (open.min(close) - open * rng.below(301) / 100_000).max(1);
            Bar {
                time: i64::try_from(i).unwrap() * 3_600,
                open: Decimal::new(open, 2),
                high: Decimal::new(high, 2),
                low: Decimal::new(low, 2),
                close: Decimal::new(close, 2),
                volume: Decimal::from(rng.below(5_000) + 1),
            }
        })
        .collect()
}

fn window(bars: &[Bar]) -> MarketWindow {
    MarketWindow::new().with_candles("BTC", Timeframe::H1, bars.to_vec())
}

fn plan() -> CompiledPlan {
    compile_json(STRATEGY, &Constraints::unrestricted()).unwrap()
}

fn bench_history(c: &mut Criterion) {
    let plan = plan();
    let history = window(&hourly_bars(BARS));
    // The work is real: one step per candle, and the strategy acts on this data.
    let steps = evaluate_history(&plan, &history).unwrap();
    assert_eq!(steps.len(), BARS);
    let acting = steps
        .iter()
        .filter(|step| !step.evaluation.is_idle())
        .count();
    assert!(
        acting > 10,
        "the walk should cross often; {acting} steps act"
    );

    let mut group = c.benchmark_group("evaluate_history");
    group.throughput(Throughput::Elements(u64::try_from(BARS).unwrap()));
    group.bench_function(BenchmarkId::from_parameter(format!("{BARS}_bars")), |b| {
        b.iter(|| evaluate_history(black_box(&plan), black_box(&history)).unwrap())
    });
    group.finish();
}

fn bench_latest(c: &mut Criterion) {
    let plan = plan();
    let bars = hourly_bars(BARS);
    let mut group = c.benchmark_group("evaluate");
    for length in [LIVE_BARS, BARS] {
        let live = window(&bars[BARS - length..]);
        assert!(evaluate(&plan, &live).shortfalls.is_empty());
        group.throughput(Throughput::Elements(u64::try_from(length).unwrap()));
        group.bench_with_input(
            BenchmarkId::new("latest_bar", format!("{length}_bars")),
            &live,
            |b, live| b.iter(|| evaluate(black_box(&plan), black_box(live))),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = bench_history, bench_latest
}
criterion_main!(benches);
