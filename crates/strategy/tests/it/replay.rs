//! Bar-by-bar replay equals evaluating each moment's window.

use clones_market::Timeframe;
use clones_strategy::{
    Bar, MarketWindow, OutcomePoint, ReplayError, compile, default_draft_graph, evaluate,
    evaluate_history, replay,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::{Rng, open, plan, random_bars};

#[test]
fn each_step_equals_evaluating_the_window_as_of_then() {
    let plan = compile(&default_draft_graph(), &open()).unwrap();
    let mut rng = Rng::new(3);
    let window =
        MarketWindow::new().with_candles("BTC", Timeframe::H1, random_bars(&mut rng, 240, 3_600));
    let steps = evaluate_history(&plan, &window).unwrap();
    assert_eq!(steps.len(), 240);
    assert_eq!(
        steps[0].time, 3_600,
        "a candle is usable once it has closed"
    );
    let mut acted = 0;
    for step in &steps {
        assert_eq!(step.evaluation, evaluate(&plan, &window.as_of(step.time)));
        acted += usize::from(!step.evaluation.is_idle());
    }
    assert!(acted > 0, "the random walk should cross at least once");
    assert_eq!(
        steps.last().unwrap().evaluation,
        evaluate(&plan, &window),
        "the last step sees the whole window"
    );
}

#[test]
fn next_actions_yields_the_iterators_times_and_actions() {
    let plan = compile(&default_draft_graph(), &open()).unwrap();
    let mut rng = Rng::new(11);
    let window =
        MarketWindow::new().with_candles("BTC", Timeframe::H1, random_bars(&mut rng, 500, 3_600));
    let steps = evaluate_history(&plan, &window).unwrap();
    let mut lazy = replay(&plan, &window).unwrap();
    let mut acted = 0;
    for step in &steps {
        assert_eq!(lazy.peek_time(), Some(step.time));
        let (time, actions) = lazy.next_actions().unwrap();
        let actions: Vec<_> = actions.cloned().collect();
        assert_eq!(time, step.time);
        assert_eq!(actions, step.evaluation.actions);
        acted += usize::from(!actions.is_empty());
    }
    assert!(acted > 0, "the random walk should cross at least once");
    assert_eq!(lazy.peek_time(), None);
    assert!(lazy.next_actions().is_none());
}

#[test]
fn several_series_step_on_the_union_of_their_times() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "btc", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "eth", "kind": "price", "params": {"asset": "ETH", "timeframe": "4h", "field": "close"}},
            {"id": "btc_fast", "kind": "ema", "params": {"period": 3}},
            {"id": "eth_slow", "kind": "sma", "params": {"period": 2}},
            {"id": "yes", "kind": "outcome_price", "params": {"market": "m", "outcome": "yes"}},
            {"id": "up", "kind": "crosses_above", "params": {}},
            {"id": "likely", "kind": "compare", "params": {"op": "gt", "threshold": "0.5"}},
            {"id": "go", "kind": "and"},
            {"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"percent_equity": "5"}}}
        ], "edges": [
            {"from": "btc", "to": "btc_fast", "input": "source"},
            {"from": "eth", "to": "eth_slow", "input": "source"},
            {"from": "btc_fast", "to": "up", "input": "left"},
            {"from": "eth_slow", "to": "up", "input": "right"},
            {"from": "yes", "to": "likely", "input": "left"},
            {"from": "up", "to": "go", "input": "inputs"},
            {"from": "likely", "to": "go", "input": "inputs"},
            {"from": "go", "to": "buy", "input": "when"}
        ]}),
        &open(),
    );
    let mut rng = Rng::new(5);
    let window = MarketWindow::new()
        .with_candles("BTC", Timeframe::H1, random_bars(&mut rng, 96, 3_600))
        .with_candles("ETH", Timeframe::H4, random_bars(&mut rng, 24, 14_400))
        .with_outcome(
            "m",
            "yes",
            (0..50)
                .map(|i| OutcomePoint {
                    time: i * 7_000 + 1,
                    price: Decimal::new(30 + (i * 37) % 50, 2),
                })
                .collect(),
        );
    let steps: Vec<_> = replay(&plan, &window).unwrap().collect();
    let mut times: Vec<i64> = (1..=96).map(|i| i * 3_600).collect();
    times.extend((1..=24).map(|i| i * 14_400));
    times.extend((0..50).map(|i| i * 7_000 + 1));
    times.sort_unstable();
    times.dedup();
    assert_eq!(
        steps.iter().map(|step| step.time).collect::<Vec<_>>(),
        times
    );
    for step in &steps {
        assert_eq!(step.evaluation, evaluate(&plan, &window.as_of(step.time)));
    }
}

#[test]
fn unordered_series_are_refused() {
    let plan = compile(&default_draft_graph(), &open()).unwrap();
    let bars = vec![
        Bar::flat(0, Decimal::ONE, Decimal::ONE),
        Bar::flat(7_200, Decimal::ONE, Decimal::ONE),
        Bar::flat(3_600, Decimal::ONE, Decimal::ONE),
    ];
    let window = MarketWindow::new().with_candles("BTC", Timeframe::H1, bars);
    let error = replay(&plan, &window).unwrap_err();
    assert!(matches!(
        error,
        ReplayError::UnorderedSeries { index: 2, .. }
    ));
    assert_eq!(error.code(), "unordered_series");
    // Plain evaluation does not look at times.
    assert!(evaluate(&plan, &window).is_idle());
}

#[test]
fn an_empty_window_replays_to_nothing() {
    let plan = compile(&default_draft_graph(), &open()).unwrap();
    assert_eq!(replay(&plan, &MarketWindow::new()).unwrap().count(), 0);
}
