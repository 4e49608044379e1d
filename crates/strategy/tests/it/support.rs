//! Builders for graphs, constraints and market data.

use std::collections::BTreeSet;
use std::str::FromStr;

use clones_market::Timeframe;
use clones_strategy::{
    Bar, CompileErrors, CompiledPlan, Constraints, ErrorCode, MarketWindow, ModelStrength,
    StrategyGraph, compile, parse_value,
};
use rust_decimal::Decimal;
use serde_json::Value;

/// The most restrictive plan: one asset, the rule model only.
pub fn starter() -> Constraints {
    Constraints {
        trade_universe: None,
        max_active_assets: 1,
        max_model_strength: ModelStrength::Basic,
    }
}

pub fn open() -> Constraints {
    Constraints::unrestricted()
}

pub fn universe(assets: &[&str]) -> Option<BTreeSet<String>> {
    Some(assets.iter().map(|asset| (*asset).to_owned()).collect())
}

/// Parses a JSON value that must be a well-formed document.
pub fn graph(value: Value) -> StrategyGraph {
    parse_value(&value).unwrap()
}

/// Compiles a well-formed document under `constraints`.
pub fn plan(value: Value, constraints: &Constraints) -> CompiledPlan {
    match compile(&graph(value), constraints) {
        Ok(plan) => plan,
        Err(errors) => panic!("expected the graph to compile: {errors}"),
    }
}

/// The errors of a well-formed document that must not compile.
pub fn errors(value: Value, constraints: &Constraints) -> CompileErrors {
    compile(&graph(value), constraints).unwrap_err()
}

pub fn codes(errors: &CompileErrors) -> Vec<ErrorCode> {
    errors.iter().map(|error| error.code).collect()
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// One flat candle per close, an hour apart from time 0.
pub fn hourly(closes: &[&str]) -> Vec<Bar> {
    closes
        .iter()
        .enumerate()
        .map(|(i, close)| Bar::flat(i as i64 * 3_600, dec(close), Decimal::ONE))
        .collect()
}

pub fn btc_hourly(closes: &[&str]) -> MarketWindow {
    MarketWindow::new().with_candles("BTC", Timeframe::H1, hourly(closes))
}

/// A small deterministic generator for market data and shuffles.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A random walk of `count` candles with positive prices, `seconds` apart.
pub fn random_bars(rng: &mut Rng, count: usize, seconds: i64) -> Vec<Bar> {
    let mut price: i64 = 10_000 + rng.below(1_000) as i64;
    (0..count)
        .map(|i| {
            let open = price;
            price = (price + rng.below(401) as i64 - 200).max(100);
            let close = price;
            let high = open.max(close) + rng.below(50) as i64;
            let low = (open.min(close) - rng.below(50) as i64).max(1);
            Bar {
                time: i as i64 * seconds,
                open: Decimal::new(open, 2),
                high: Decimal::new(high, 2),
                low: Decimal::new(low, 2),
                close: Decimal::new(close, 2),
                volume: Decimal::from(rng.below(1_000)),
            }
        })
        .collect()
}
