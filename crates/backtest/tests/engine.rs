//! The engine against its stated invariants and a golden run on real daily bars.

#![expect(
    clippy::unwrap_used,
    reason = "tests should fail loudly on broken fixtures"
)]

use std::collections::BTreeMap;

use clones_backtest::{
    BacktestError, BacktestInput, BacktestSettings, Direction, EndAt, FillAt, FillReason, FoldMode,
    Progress, TradedInstrument, WalkForward, run, run_observed, run_with_ledger, walk_forward,
};
use clones_market::{InstrumentKey, Timeframe};
use clones_strategy::{Bar, CompiledPlan, Constraints, MarketWindow, compile_json};
use rust_decimal::Decimal;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn ibm_bars() -> Vec<Bar> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/ibm_daily.csv")).unwrap();
    clones_ingest::sources::replay::parse_csv(&text)
        .unwrap()
        .into_iter()
        .map(|candle| Bar {
            time: candle.open_time.timestamp(),
            open: candle.open,
            high: candle.high,
            low: candle.low,
            close: candle.close,
            volume: candle.volume,
        })
        .collect()
}

fn plan(name: &str) -> CompiledPlan {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    compile_json(&text, &Constraints::unrestricted()).unwrap()
}

fn instruments(asset: &str) -> BTreeMap<String, TradedInstrument> {
    BTreeMap::from([(
        asset.to_string(),
        TradedInstrument::new(InstrumentKey::spot("replay", asset).unwrap()),
    )])
}

/// Runs `body` on the 10/30 SMA crossover over the IBM daily bars, from the first bar to the last.
fn with_ibm<T>(body: impl FnOnce(&BacktestInput<'_>) -> T) -> T {
    let plan = plan("sma_cross.json");
    let window = MarketWindow::new().with_candles("IBM", Timeframe::D1, ibm_bars());
    let instruments = instruments("IBM");
    body(&BacktestInput {
        plan: &plan,
        window: &window,
        instruments: &instruments,
        from: None,
        to: None,
    })
}

fn settings() -> BacktestSettings {
    BacktestSettings {
        cash: d("10000"),
        commission: Some(d("0.001")),
        ..BacktestSettings::default()
    }
}

#[test]
fn the_same_input_gives_the_same_report_and_hash() {
    let close = BacktestSettings {
        fill_at: FillAt::Close,
        ..settings()
    };
    let (first, second, other) = with_ibm(|input| {
        (
            run(input, &settings()).unwrap(),
            run(input, &settings()).unwrap(),
            run(input, &close).unwrap(),
        )
    });
    assert_eq!(first, second);
    assert_eq!(first.result_hash, second.result_hash);
    assert_eq!(first.result_hash.len(), 67);
    assert!(
        first
            .result_hash
            .starts_with(clones_backtest::RESULT_HASH_VERSION)
    );
    assert_ne!(other.result_hash, first.result_hash);
}

#[test]
fn progress_ends_at_the_total_and_a_break_stops_the_run() {
    let mut seen = Vec::new();
    let (report, _) = with_ibm(|input| {
        run_observed(input, &settings(), &mut |progress| {
            seen.push(progress);
            std::ops::ControlFlow::Continue(())
        })
    })
    .unwrap();
    let last = *seen.last().unwrap();
    assert_eq!(last.done, last.total);
    assert_eq!(last.total, u64::try_from(ibm_bars().len()).unwrap());
    assert_eq!(report, with_ibm(|input| run(input, &settings())).unwrap());

    let stopped = with_ibm(|input| {
        run_observed(input, &settings(), &mut |_: Progress| {
            std::ops::ControlFlow::Break(())
        })
    });
    assert_eq!(stopped.unwrap_err(), BacktestError::Stopped);
}

#[test]
fn the_ledger_balances_and_cash_never_goes_negative() {
    for fill_at in [FillAt::NextOpen, FillAt::Close] {
        let settings = BacktestSettings {
            fill_at,
            slippage_bps: d("5"),
            ..settings()
        };
        let (report, events) = with_ibm(|input| run_with_ledger(input, &settings)).unwrap();
        for event in &events {
            let total: Decimal = event.entries().iter().map(|entry| entry.amount).sum();
            assert_eq!(total, Decimal::ZERO, "every event is zero-sum");
        }
        let cash: Decimal = events.iter().map(|event| event.cash_delta()).sum();
        let last = report.equity.last().unwrap();
        assert_eq!(cash, last.cash, "cash is the sum of the ledger");
        assert!(
            report
                .equity
                .iter()
                .all(|point| point.cash >= Decimal::ZERO)
        );
        assert!(
            report
                .equity
                .iter()
                .all(|point| point.equity > Decimal::ZERO)
        );
        // Flat after the end: equity is cash, and the trades' PnL is the whole change.
        assert_eq!(last.equity, last.cash);
        let pnl: Decimal = report.trades.iter().map(|trade| trade.pnl).sum();
        assert_eq!(settings.cash + pnl, last.equity);
        let fees: Decimal = report.fills.iter().map(|fill| fill.fee).sum();
        assert_eq!(report.metrics.fees_paid, fees);
        assert!(report.trades.iter().all(|t| t.direction == Direction::Long));
    }
}

/// Bars at `closes`, one day apart, each opening at the previous close.
fn daily(closes: &[&str]) -> Vec<Bar> {
    let mut previous = d(closes[0]);
    closes
        .iter()
        .enumerate()
        .map(|(i, close)| {
            let close = d(close);
            let bar = Bar {
                time: 1_700_006_400 + 86_400 * i64::try_from(i).unwrap(),
                open: previous,
                high: previous.max(close) + d("1"),
                low: previous.min(close) - d("1"),
                close,
                volume: d("1"),
            };
            previous = close;
            bar
        })
        .collect()
}

const ONCE: &str = r#"{
  "version": 1,
  "nodes": [
    { "id": "close", "kind": "price", "params": { "asset": "ABC", "timeframe": "1d", "field": "close" } },
    { "id": "up", "kind": "crosses_above", "params": { "threshold": 60 } },
    { "id": "buy", "kind": "open_long", "params": { "asset": "ABC", "size": { "percent_equity": "100" } } }
  ],
  "edges": [
    { "from": "close", "to": "up", "input": "left" },
    { "from": "up", "to": "buy", "input": "when" }
  ]
}"#;

#[test]
fn buy_and_hold_returns_the_price_change_less_fees() {
    let plan = compile_json(ONCE, &Constraints::unrestricted()).unwrap();
    let bars = daily(&["50", "55", "62", "64", "70", "66", "80"]);
    let window = MarketWindow::new().with_candles("ABC", Timeframe::D1, bars);
    let instruments = instruments("ABC");
    let input = BacktestInput {
        plan: &plan,
        window: &window,
        instruments: &instruments,
        from: None,
        to: None,
    };
    let report = run(&input, &settings()).unwrap();
    assert_eq!(report.trades.len(), 1);
    let trade = &report.trades[0];
    // Decided on the close of 62, filled at the next open (62), closed at the last close.
    assert_eq!(trade.entry_price, d("62"));
    assert_eq!(trade.exit_price, d("80"));
    assert_eq!(trade.exit_reason, FillReason::End);
    let fee_rate = d("0.001");
    let units = (d("10000") / (d("62") * (Decimal::ONE + fee_rate)))
        .round_dp_with_strategy(10, rust_decimal::RoundingStrategy::ToZero);
    let expected = d("10000") + units * (d("80") - d("62"))
        - (units * d("62") * fee_rate).round_dp(10)
        - (units * d("80") * fee_rate).round_dp(10);
    assert_eq!(report.metrics.final_equity, expected);
    assert!(
        report
            .equity
            .iter()
            .all(|point| point.cash >= Decimal::ZERO)
    );

    // Marked instead of closed: no exit fill, the same equity before the exit fee.
    let marked = run(
        &input,
        &BacktestSettings {
            end_at: EndAt::Mark,
            ..settings()
        },
    )
    .unwrap();
    assert!(marked.trades.is_empty());
    assert_eq!(
        marked.metrics.final_equity,
        expected + (units * d("80") * fee_rate).round_dp(10)
    );
}

const STOPPED: &str = r#"{
  "version": 1,
  "nodes": [
    { "id": "close", "kind": "price", "params": { "asset": "ABC", "timeframe": "1d", "field": "close" } },
    { "id": "up", "kind": "crosses_above", "params": { "threshold": 60 } },
    { "id": "buy", "kind": "open_long", "params": { "asset": "ABC", "size": { "percent_equity": "50" } } },
    { "id": "stop", "kind": "stop_loss", "params": { "percent": "5" } },
    { "id": "target", "kind": "take_profit", "params": { "percent": "5" } }
  ],
  "edges": [
    { "from": "close", "to": "up", "input": "left" },
    { "from": "up", "to": "buy", "input": "when" },
    { "from": "buy", "to": "stop", "input": "actions" },
    { "from": "buy", "to": "target", "input": "actions" }
  ]
}"#;

#[test]
fn a_bar_reaching_both_levels_counts_as_stopped_out() {
    let plan = compile_json(STOPPED, &Constraints::unrestricted()).unwrap();
    // Entry at 62; the next bar's range (61 - 1 .. 70 + 1) reaches both 58.9 and 65.1.
    let mut bars = daily(&["50", "55", "62", "62", "61", "70"]);
    bars[4].low = d("50");
    bars[4].high = d("75");
    let window = MarketWindow::new().with_candles("ABC", Timeframe::D1, bars);
    let instruments = instruments("ABC");
    let report = run(
        &BacktestInput {
            plan: &plan,
            window: &window,
            instruments: &instruments,
            from: None,
            to: None,
        },
        &settings(),
    )
    .unwrap();
    assert_eq!(report.trades.len(), 1);
    assert_eq!(report.trades[0].exit_reason, FillReason::StopLoss);
    assert_eq!(report.trades[0].exit_price, d("58.9"));
}

#[test]
fn golden_sma_crossover_on_ibm_daily_bars() {
    let report = with_ibm(|input| run(input, &settings())).unwrap();
    let path = format!("{FIXTURES}/ibm_sma_cross.golden.json");
    if std::env::var_os("BLESS_GOLDEN").is_some() {
        // Rewrites the golden file; review the diff before committing it.
        let value = serde_json::json!({
            "trades": report.trades,
            "metrics": report.metrics,
            "resultHash": report.result_hash,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
    }
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_close(
        &serde_json::to_value(&report.trades).unwrap(),
        &golden["trades"],
    );
    assert_close(
        &serde_json::to_value(&report.metrics).unwrap(),
        &golden["metrics"],
    );
    assert_eq!(report.result_hash, golden["resultHash"]);
}

/// Equal JSON, floats to 1e-9 relative: reading a float back through `Value` may move its last
/// digit. Amounts are strings and compare exactly; the result hash pins every digit anyway.
fn assert_close(actual: &serde_json::Value, expected: &serde_json::Value) {
    use serde_json::Value;
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} != {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len());
            a.iter().zip(b).for_each(|(a, b)| assert_close(a, b));
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
            a.iter()
                .for_each(|(key, value)| assert_close(value, &b[key]));
        }
        _ => assert_eq!(actual, expected),
    }
}

#[test]
fn walk_forward_reports_every_fold() {
    let request = WalkForward {
        folds: 5,
        in_sample_ratio: 0.7,
        mode: FoldMode::Rolling,
    };
    let report = with_ibm(|input| walk_forward(input, &settings(), &request)).unwrap();
    assert_eq!(report.folds.len(), 5);
    for fold in &report.folds {
        assert!(fold.in_sample.start < fold.out_of_sample.start);
        assert!(fold.in_sample.end <= fold.out_of_sample.start);
    }
}

#[test]
fn the_chart_is_an_svg_with_the_curve_and_a_marker_per_entry_and_exit() {
    let report = with_ibm(|input| run(input, &settings())).unwrap();
    let svg = clones_backtest::chart_svg(&report, settings().cash);
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<circle").count(), 2 * report.trades.len());
    assert!(svg.contains("<polyline") || svg.contains("<path"));
    // The same report draws the same chart.
    assert_eq!(svg, clones_backtest::chart_svg(&report, settings().cash));
}
