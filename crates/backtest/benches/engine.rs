//! Throughput of the backtest engine: bars per second through a whole backtest (replay,
//! sizing, fills through prop-engine's simulation and paper account, stops, mark-to-market,
//! metrics and the result hash).
//!
//! The strategy is the 11-node graph of the strategy crate's `evaluate` benchmark: EMA(12) and
//! EMA(26) on BTC 1m closes, a cross up that opens a long (10 % of equity, 5 % stop loss) while
//! RSI(14) is below 70, and a cross down that closes it. The data is 100 000 one-minute candles
//! of the replay source's seeded generator, so every run measures the same work.
//!
//! Run with `cargo bench -p clones-backtest --bench engine`. With `ENGINE_ITERATIONS=N` set,
//! the binary instead times `N` single runs and prints the fastest and the median (what the
//! engine does when nothing else holds the core), and with `N` = 0 it does one untimed run, a
//! fixed amount of work for an instruction count under `valgrind --tool=cachegrind`.

#![expect(clippy::unwrap_used, reason = "a benchmark harness fails loudly")]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use clones_backtest::{BacktestInput, BacktestSettings, TradedInstrument, bars_of, run};
use clones_ingest::sources::replay::{Generator, GeneratorConfig};
use clones_market::{InstrumentKey, Timeframe};
use clones_strategy::{Bar, CompiledPlan, Constraints, MarketWindow, compile_json};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

/// Candles in the backtest.
const BARS: usize = 100_000;

/// The strategy of the strategy crate's `evaluate` benchmark, on one-minute bars.
const STRATEGY: &str = include_str!("../../strategy/benches/ema_rsi_cross.json");

fn strategy() -> String {
    STRATEGY.replace("\"timeframe\": \"1h\"", "\"timeframe\": \"1m\"")
}

/// `count` one-minute BTC candles of the replay source's seeded generator (GARCH volatility
/// clustering), so the market is the one the offline demo trades.
fn minute_bars(count: usize) -> Vec<Bar> {
    let anchor = GeneratorConfig::default_anchor();
    let generator = Generator::new(GeneratorConfig {
        seed: 7,
        symbols: vec!["BTC".into()],
        anchor,
        backfill: chrono::Duration::zero(),
        timeframes: Vec::new(),
    });
    let minutes = i64::try_from(count).unwrap();
    bars_of(&generator.minutes("BTC", anchor, anchor + chrono::Duration::minutes(minutes)))
}

/// What every run reads: the compiled strategy, `BARS` minute bars of BTC and its instrument.
struct Fixture {
    plan: CompiledPlan,
    window: MarketWindow,
    instruments: BTreeMap<String, TradedInstrument>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            plan: compile_json(&strategy(), &Constraints::unrestricted()).unwrap(),
            window: MarketWindow::new().with_candles("BTC", Timeframe::M1, minute_bars(BARS)),
            instruments: BTreeMap::from([(
                "BTC".to_string(),
                TradedInstrument::new(InstrumentKey::perp("replay", "BTC").unwrap()),
            )]),
        }
    }

    fn input(&self) -> BacktestInput<'_> {
        BacktestInput {
            plan: &self.plan,
            window: &self.window,
            instruments: &self.instruments,
            from: None,
            to: None,
        }
    }
}

/// The timed loop of `ENGINE_ITERATIONS`.
fn iterations(count: usize) {
    let fixture = Fixture::new();
    let input = fixture.input();
    let settings = BacktestSettings::default();
    if count == 0 {
        let report = run(black_box(&input), black_box(&settings)).unwrap();
        println!(
            "{} trades, {} fills, final equity {}, {}",
            report.trades.len(),
            report.fills.len(),
            report.metrics.final_equity,
            report.result_hash
        );
        return;
    }
    let mut times: Vec<Duration> = (0..count)
        .map(|_| {
            let started = Instant::now();
            black_box(run(black_box(&input), black_box(&settings)).unwrap());
            started.elapsed()
        })
        .collect();
    times.sort();
    let per_second = |time: Duration| BARS as f64 / time.as_secs_f64() / 1e6;
    println!(
        "{count} runs of {BARS} bars: best {:.2} ms ({:.2} M bars/s), median {:.2} ms ({:.2} M bars/s)",
        times[0].as_secs_f64() * 1e3,
        per_second(times[0]),
        times[count / 2].as_secs_f64() * 1e3,
        per_second(times[count / 2]),
    );
}

fn bench_engine(c: &mut Criterion) {
    let fixture = Fixture::new();
    let input = fixture.input();
    let settings = BacktestSettings::default();
    // The work is real: the strategy trades and is stopped out on this data.
    let report = run(&input, &settings).unwrap();
    assert!(
        report.metrics.trades > 100,
        "{} trades",
        report.metrics.trades
    );
    assert_eq!(report.equity.len(), BARS);

    let mut group = c.benchmark_group("backtest");
    group.throughput(Throughput::Elements(u64::try_from(BARS).unwrap()));
    group.bench_function(BenchmarkId::from_parameter(format!("{BARS}_bars")), |b| {
        b.iter(|| run(black_box(&input), black_box(&settings)).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_engine
}
fn main() {
    match std::env::var("ENGINE_ITERATIONS") {
        Ok(count) => iterations(count.parse().unwrap()),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
