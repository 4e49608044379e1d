//! Every node kind's evaluation, with values checked by hand.
//!
//! Indicator values are read through an `llm_instruction` whose `context` is wired to the
//! indicator: the request carries the current value as a `Decimal` rounded to 10 places.

use clones_market::Timeframe;
use clones_strategy::{
    ActionKind, Bar, CompiledPlan, DataShortfall, MarketWindow, OutcomePoint, RiskSettings,
    SeriesKey, SizeSpec, evaluate,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{btc_hourly, dec, open, plan};

/// A plan that reports the current value of `node` (fed by BTC 1h `field`) to a model.
fn probe(node: Value, output: Option<&str>, field: &str) -> CompiledPlan {
    let mut context = json!({"from": "x", "to": "ask", "input": "context"});
    if let Some(output) = output {
        context["output"] = json!(output);
    }
    plan(
        json!({"version": 1, "nodes": [
            {"id": "p", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": field}},
            node,
            {"id": "ask", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "Report.", "allowed_actions": ["close"], "assets": ["BTC"]}}
        ], "edges": [
            {"from": "p", "to": "x", "input": "source"},
            context
        ]}),
        &open(),
    )
}

fn context_value(plan: &CompiledPlan, window: &MarketWindow) -> Option<Decimal> {
    let evaluation = evaluate(plan, window);
    assert_eq!(evaluation.llm_requests.len(), 1);
    evaluation.llm_requests[0].context[0].value
}

fn value_of(node: Value, output: Option<&str>, closes: &[&str]) -> Option<Decimal> {
    context_value(&probe(node, output, "close"), &btc_hourly(closes))
}

#[test]
fn price_reads_each_field() {
    let bar = Bar {
        time: 0,
        open: dec("1.5"),
        high: dec("4"),
        low: dec("1"),
        close: dec("2.25"),
        volume: dec("1000"),
    };
    let window = MarketWindow::new().with_candles("BTC", Timeframe::H1, vec![bar]);
    for (field, expected) in [
        ("open", "1.5"),
        ("high", "4"),
        ("low", "1"),
        ("close", "2.25"),
        ("volume", "1000"),
    ] {
        let plan = probe(
            json!({"id": "x", "kind": "sma", "params": {"period": 1}}),
            None,
            field,
        );
        assert_eq!(
            context_value(&plan, &window),
            Some(dec(expected)),
            "{field}"
        );
    }
}

#[test]
fn outcome_price_reads_the_latest_observation() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "yes", "kind": "outcome_price", "params": {"market": "0xabc", "outcome": "yes"}},
            {"id": "cheap", "kind": "compare", "params": {"op": "lt", "threshold": "0.3"}},
            {"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"notional": "100"}}},
            {"id": "ask", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "g", "allowed_actions": ["close"], "assets": ["BTC"]}}
        ], "edges": [
            {"from": "yes", "to": "cheap", "input": "left"},
            {"from": "cheap", "to": "buy", "input": "when"},
            {"from": "yes", "to": "ask", "input": "context"}
        ]}),
        &open(),
    );
    let window = MarketWindow::new().with_outcome(
        "0xabc",
        "yes",
        vec![
            OutcomePoint {
                time: 0,
                price: dec("0.5"),
            },
            OutcomePoint {
                time: 60,
                price: dec("0.25"),
            },
        ],
    );
    let evaluation = evaluate(&plan, &window);
    assert_eq!(
        evaluation.llm_requests[0].context[0].value,
        Some(dec("0.25"))
    );
    assert_eq!(evaluation.actions.len(), 1);
    assert_eq!(
        plan.requirements()[0].series,
        SeriesKey::Outcome(clones_strategy::OutcomeKey::new("0xabc", "yes"))
    );
}

#[test]
fn sma() {
    let node = json!({"id": "x", "kind": "sma", "params": {"period": 3}});
    assert_eq!(
        value_of(node.clone(), None, &["1", "2", "3", "4", "5"]),
        Some(dec("4"))
    );
    assert_eq!(value_of(node, None, &["1", "2"]), None);
}

#[test]
fn ema() {
    // alpha 0.5, seeded with SMA(1, 2, 3) = 2, then 3, then 4.
    let node = json!({"id": "x", "kind": "ema", "params": {"period": 3}});
    assert_eq!(
        value_of(node, None, &["1", "2", "3", "4", "5"]),
        Some(dec("4"))
    );
    // alpha 2/3: seed 15, then 2/3 * 20 + 1/3 * 15 = 18.333…
    let node = json!({"id": "x", "kind": "ema", "params": {"period": 2}});
    assert_eq!(
        value_of(node, None, &["10", "20", "20"]),
        Some(dec("18.3333333333"))
    );
}

#[test]
fn rsi() {
    // Changes +1, -0.5, +1 with period 2: averages 0.5/0.25, then 0.75/0.125 → RS 6.
    let node = json!({"id": "x", "kind": "rsi", "params": {"period": 2}});
    assert_eq!(
        value_of(node.clone(), None, &["10", "11", "10.5", "11.5"]),
        Some(dec("85.7142857143"))
    );
    assert_eq!(
        value_of(node.clone(), None, &["10", "11", "10.5"]),
        Some(dec("66.6666666667"))
    );
    assert_eq!(value_of(node, None, &["10", "11"]), None);
}

#[test]
fn macd() {
    // fast 1, slow 2, signal 2 on 1, 3, 6, 10: line 16/9, signal 85/54, histogram 11/54.
    let node = json!({"id": "x", "kind": "macd", "params": {"fast": 1, "slow": 2, "signal": 2}});
    let closes = ["1", "3", "6", "10"];
    assert_eq!(
        value_of(node.clone(), Some("line"), &closes),
        Some(dec("1.7777777778"))
    );
    assert_eq!(
        value_of(node.clone(), Some("signal"), &closes),
        Some(dec("1.5740740741"))
    );
    assert_eq!(
        value_of(node, Some("histogram"), &closes),
        Some(dec("0.2037037037"))
    );
}

#[test]
fn atr() {
    // Candles (h, l, c): (10, 8, 9), (11, 9, 10), (12, 9, 11), (11, 7, 8).
    // True ranges 2, 3, 4; period 2: 2.5, then (2.5 + 4) / 2 = 3.25.
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "h", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "high"}},
            {"id": "l", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "low"}},
            {"id": "c", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "x", "kind": "atr", "params": {"period": 2}},
            {"id": "ask", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "g", "allowed_actions": ["close"], "assets": ["BTC"]}}
        ], "edges": [
            {"from": "h", "to": "x", "input": "high"},
            {"from": "l", "to": "x", "input": "low"},
            {"from": "c", "to": "x", "input": "close"},
            {"from": "x", "to": "ask", "input": "context"}
        ]}),
        &open(),
    );
    let candle = |time: i64, h: i64, l: i64, c: i64| Bar {
        time,
        open: Decimal::from(c),
        high: Decimal::from(h),
        low: Decimal::from(l),
        close: Decimal::from(c),
        volume: Decimal::ONE,
    };
    let bars = vec![
        candle(0, 10, 8, 9),
        candle(3_600, 11, 9, 10),
        candle(7_200, 12, 9, 11),
        candle(10_800, 11, 7, 8),
    ];
    let window = MarketWindow::new().with_candles("BTC", Timeframe::H1, bars.clone());
    assert_eq!(context_value(&plan, &window), Some(dec("3.25")));
    assert_eq!(plan.warmup_bars(), 3);
    let short = MarketWindow::new().with_candles("BTC", Timeframe::H1, bars[..2].to_vec());
    assert_eq!(context_value(&plan, &short), None);
}

#[test]
fn bollinger() {
    // Window 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population σ 2; multiplier 2 → 9 / 5 / 1.
    let node = json!({"id": "x", "kind": "bollinger", "params": {"period": 8, "multiplier": 2}});
    let closes = ["2", "4", "4", "4", "5", "5", "7", "9"];
    for (output, expected) in [("upper", "9"), ("middle", "5"), ("lower", "1")] {
        assert_eq!(
            value_of(node.clone(), Some(output), &closes),
            Some(dec(expected)),
            "{output}"
        );
    }
}

#[test]
fn returns() {
    let node = json!({"id": "x", "kind": "returns", "params": {"period": 2}});
    assert_eq!(
        value_of(node.clone(), None, &["100", "110", "121"]),
        Some(dec("0.21"))
    );
    assert_eq!(value_of(node, None, &["0", "110", "121"]), None);
}

#[test]
fn volatility() {
    // One-step returns 0.1, -0.1, 0.1: sample σ over 2 is sqrt(0.02), over 3 sqrt(0.04 / 3).
    let closes = ["100", "110", "99", "108.9"];
    let node = json!({"id": "x", "kind": "volatility", "params": {"period": 2}});
    assert_eq!(value_of(node, None, &closes), Some(dec("0.1414213562")));
    let node = json!({"id": "x", "kind": "volatility", "params": {"period": 3}});
    assert_eq!(value_of(node, None, &closes), Some(dec("0.1154700538")));
}

/// A plan where `condition` (fed by nodes `a` = BTC 1h close and `b` = SMA(2) of it) gates
/// an open_long.
fn gate(condition: Value, edges: Value) -> CompiledPlan {
    let mut all_edges = vec![
        json!({"from": "a", "to": "b", "input": "source"}),
        json!({"from": "cond", "to": "buy", "input": "when"}),
    ];
    all_edges.extend(edges.as_array().cloned().unwrap_or_default());
    plan(
        json!({"version": 1, "nodes": [
            {"id": "a", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "b", "kind": "sma", "params": {"period": 2}},
            condition,
            {"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"percent_equity": "10"}}}
        ], "edges": all_edges}),
        &open(),
    )
}

fn fires(plan: &CompiledPlan, closes: &[&str]) -> bool {
    !evaluate(plan, &btc_hourly(closes)).actions.is_empty()
}

#[test]
fn compare_with_a_threshold() {
    let cases = [
        ("gt", "5", false, true),
        ("gte", "5", true, true),
        ("lt", "5", false, false),
        ("lte", "5", true, false),
        ("eq", "5", true, false),
    ];
    for (op, threshold, at_five, at_six) in cases {
        let plan = gate(
            json!({"id": "cond", "kind": "compare", "params": {"op": op, "threshold": threshold}}),
            json!([{"from": "a", "to": "cond", "input": "left"}]),
        );
        assert_eq!(fires(&plan, &["1", "5"]), at_five, "{op} at 5");
        assert_eq!(fires(&plan, &["1", "6"]), at_six, "{op} at 6");
    }
}

#[test]
fn compare_two_series() {
    // a vs SMA(2) of a: rising series → a > sma.
    let plan = gate(
        json!({"id": "cond", "kind": "compare", "params": {"op": "gt"}}),
        json!([
            {"from": "a", "to": "cond", "input": "left"},
            {"from": "b", "to": "cond", "input": "right"}
        ]),
    );
    assert!(fires(&plan, &["1", "2", "3"]));
    assert!(!fires(&plan, &["3", "2", "1"]));
    assert!(!fires(&plan, &["3"]), "undefined SMA never fires");
}

#[test]
fn crosses_above_and_below() {
    let above = gate(
        json!({"id": "cond", "kind": "crosses_above", "params": {}}),
        json!([
            {"from": "a", "to": "cond", "input": "left"},
            {"from": "b", "to": "cond", "input": "right"}
        ]),
    );
    // sma: -, 10, 10, 9.5, 10; a: 10, 10, 10, 9, 11.
    // At index 4: before a 9 <= sma 9.5, now 11 > 10 → cross.
    assert!(fires(&above, &["10", "10", "10", "9", "11"]));
    assert!(!fires(&above, &["10", "10", "10", "9"]));
    // Staying above is not crossing.
    assert!(!fires(&above, &["10", "11", "12", "13"]));
    // Touching then rising counts (before <=).
    assert!(fires(&above, &["10", "10", "11"]));

    let below = gate(
        json!({"id": "cond", "kind": "crosses_below", "params": {"threshold": "100"}}),
        json!([{"from": "a", "to": "cond", "input": "left"}]),
    );
    assert!(fires(&below, &["101", "99"]));
    assert!(fires(&below, &["100", "99"]));
    assert!(!fires(&below, &["99", "98"]));
    assert!(!fires(&below, &["99"]), "one value is not enough to cross");
}

#[test]
fn and_or_not() {
    let plan_for = |kind: &str| {
        plan(
            json!({"version": 1, "nodes": [
                {"id": "a", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
                {"id": "gt5", "kind": "compare", "params": {"op": "gt", "threshold": 5}},
                {"id": "lt8", "kind": "compare", "params": {"op": "lt", "threshold": 8}},
                {"id": "both", "kind": kind},
                {"id": "neither", "kind": "not"},
                {"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"percent_equity": "10"}}},
                {"id": "sell", "kind": "open_short", "params": {"asset": "BTC", "size": {"percent_equity": "10"}}}
            ], "edges": [
                {"from": "a", "to": "gt5", "input": "left"},
                {"from": "a", "to": "lt8", "input": "left"},
                {"from": "gt5", "to": "both", "input": "inputs"},
                {"from": "lt8", "to": "both", "input": "inputs"},
                {"from": "both", "to": "neither", "input": "input"},
                {"from": "both", "to": "buy", "input": "when"},
                {"from": "neither", "to": "sell", "input": "when"}
            ]}),
            &open(),
        )
    };
    let kinds = |plan: &CompiledPlan, close: &str| -> Vec<ActionKind> {
        evaluate(plan, &btc_hourly(&[close]))
            .actions
            .iter()
            .map(|action| action.kind)
            .collect()
    };
    let and = plan_for("and");
    assert_eq!(kinds(&and, "6"), vec![ActionKind::OpenLong]);
    assert_eq!(kinds(&and, "9"), vec![ActionKind::OpenShort]);
    let or = plan_for("or");
    assert_eq!(kinds(&or, "9"), vec![ActionKind::OpenLong]);
    assert_eq!(kinds(&or, "6"), vec![ActionKind::OpenLong]);
    // No data: everything is undefined, nothing fires — not even through `not`.
    let empty = evaluate(&and, &MarketWindow::new());
    assert!(empty.is_idle());
}

#[test]
fn actions_carry_size_and_risk() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "a", "kind": "price", "params": {"asset": "ETH", "timeframe": "15m", "field": "close"}},
            {"id": "on", "kind": "compare", "params": {"op": "gte", "threshold": 0}},
            {"id": "z_long", "kind": "open_long", "params": {"asset": "ETH", "size": {"percent_equity": "12.5"}}},
            {"id": "m_short", "kind": "open_short", "params": {"asset": "ETH", "size": {"notional": "2500"}}},
            {"id": "b_target", "kind": "target_position", "params": {"asset": "ETH", "size": {"percent_equity": "-50"}}},
            {"id": "a_close", "kind": "close", "params": {"asset": "ETH"}},
            {"id": "stop", "kind": "stop_loss", "params": {"percent": "2.5"}},
            {"id": "tp", "kind": "take_profit", "params": {"percent": 8}},
            {"id": "cap", "kind": "max_position", "params": {"size": {"notional": "10000"}}}
        ], "edges": [
            {"from": "a", "to": "on", "input": "left"},
            {"from": "on", "to": "z_long", "input": "when"},
            {"from": "on", "to": "m_short", "input": "when"},
            {"from": "on", "to": "b_target", "input": "when"},
            {"from": "on", "to": "a_close", "input": "when"},
            {"from": "z_long", "to": "stop", "input": "actions"},
            {"from": "m_short", "to": "stop", "input": "actions"},
            {"from": "z_long", "to": "tp", "input": "actions"},
            {"from": "b_target", "to": "cap", "input": "actions"}
        ]}),
        &open(),
    );
    let window = MarketWindow::new().with_candles(
        "ETH",
        Timeframe::M15,
        vec![Bar::flat(0, dec("3000"), Decimal::ONE)],
    );
    let evaluation = evaluate(&plan, &window);
    let summary: Vec<(&str, ActionKind, Option<SizeSpec>, RiskSettings)> = evaluation
        .actions
        .iter()
        .map(|action| (action.node.as_str(), action.kind, action.size, action.risk))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("a_close", ActionKind::Close, None, RiskSettings::default()),
            (
                "b_target",
                ActionKind::TargetPosition,
                Some(SizeSpec::PercentEquity(dec("-50"))),
                RiskSettings {
                    max_position: Some(SizeSpec::Notional(dec("10000"))),
                    ..RiskSettings::default()
                }
            ),
            (
                "m_short",
                ActionKind::OpenShort,
                Some(SizeSpec::Notional(dec("2500"))),
                RiskSettings {
                    stop_loss_percent: Some(dec("2.5")),
                    ..RiskSettings::default()
                }
            ),
            (
                "z_long",
                ActionKind::OpenLong,
                Some(SizeSpec::PercentEquity(dec("12.5"))),
                RiskSettings {
                    stop_loss_percent: Some(dec("2.5")),
                    take_profit_percent: Some(dec("8")),
                    max_position: None,
                }
            ),
        ]
    );
    assert!(
        evaluation
            .actions
            .iter()
            .all(|action| action.asset == "ETH")
    );
    let rules: Vec<(&str, Vec<String>)> = plan
        .risk_rules()
        .iter()
        .map(|rule| (rule.node.as_str(), rule.actions.clone()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("cap", vec!["b_target".to_owned()]),
            ("stop", vec!["m_short".to_owned(), "z_long".to_owned()]),
            ("tp", vec!["z_long".to_owned()]),
        ]
    );
    assert_eq!(
        serde_json::to_value(&evaluation.actions[3]).unwrap(),
        json!({"node": "z_long", "asset": "ETH", "kind": "open_long",
               "size": {"percent_equity": "12.5"},
               "risk": {"stop_loss_percent": "2.5", "take_profit_percent": "8", "max_position": null}})
    );
}

#[test]
fn llm_instruction_is_gated_and_carries_its_context() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "a", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "rsi", "kind": "rsi", "params": {"period": 2}},
            {"id": "bands", "kind": "bollinger", "params": {"period": 2, "multiplier": 1}},
            {"id": "busy", "kind": "compare", "params": {"op": "gt", "threshold": 100}},
            {"id": "ask", "kind": "llm_instruction", "params": {"model": "gpt-4o-mini",
                "guidance": "Only trade with the trend.", "allowed_actions": ["close", "open_long"], "assets": ["BTC"]}},
            {"id": "tp", "kind": "take_profit", "params": {"percent": 3}}
        ], "edges": [
            {"from": "a", "to": "rsi", "input": "source"},
            {"from": "a", "to": "bands", "input": "source"},
            {"from": "a", "to": "busy", "input": "left"},
            {"from": "busy", "to": "ask", "input": "when"},
            {"from": "rsi", "to": "ask", "input": "context"},
            {"from": "bands", "output": "upper", "to": "ask", "input": "context"},
            {"from": "a", "to": "ask", "input": "context"},
            {"from": "ask", "to": "tp", "input": "actions"}
        ]}),
        &open(),
    );
    assert!(
        evaluate(&plan, &btc_hourly(&["99", "100"]))
            .llm_requests
            .is_empty()
    );
    let evaluation = evaluate(&plan, &btc_hourly(&["100", "102"]));
    assert_eq!(evaluation.llm_requests.len(), 1);
    let request = &evaluation.llm_requests[0];
    assert_eq!(request.model, "gpt-4o-mini");
    assert_eq!(request.guidance, "Only trade with the trend.");
    assert_eq!(
        request.allowed_actions,
        vec![ActionKind::OpenLong, ActionKind::Close]
    );
    assert_eq!(request.risk.take_profit_percent, Some(dec("3")));
    let context: Vec<(&str, Option<Decimal>)> = request
        .context
        .iter()
        .map(|value| (value.label.as_str(), value.value))
        .collect();
    // Window (100, 102): mean 101, population σ 1 → upper 102. RSI(2) needs 3 values.
    assert_eq!(
        context,
        vec![
            ("a", Some(dec("102"))),
            ("bands.upper", Some(dec("102"))),
            ("rsi", None),
        ]
    );
    assert_eq!(plan.models(), ["gpt-4o-mini".to_owned()]);
    assert!(plan.uses_language_model());
}

#[test]
fn ungated_llm_instruction_is_always_consulted() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "ask", "kind": "llm_instruction", "params": {"model": "o3", "guidance": "g", "allowed_actions": ["target_position"], "assets": ["SOL", "BTC"]}}
        ], "edges": []}),
        &open(),
    );
    let evaluation = evaluate(&plan, &MarketWindow::new());
    assert_eq!(evaluation.llm_requests.len(), 1);
    assert_eq!(evaluation.llm_requests[0].assets, vec!["BTC", "SOL"]);
    assert!(plan.requirements().is_empty());
    assert_eq!(plan.warmup_bars(), 0);
    assert_eq!(plan.traded_assets(), ["BTC".to_owned(), "SOL".to_owned()]);
}

#[test]
fn shortfalls_are_reported() {
    let plan = gate(
        json!({"id": "cond", "kind": "crosses_above", "params": {"threshold": 1}}),
        json!([{"from": "b", "to": "cond", "input": "left"}]),
    );
    // SMA(2) needs 2 closes, crossing needs one more.
    assert_eq!(plan.warmup_bars(), 3);
    let evaluation = evaluate(&plan, &btc_hourly(&["1", "2"]));
    assert_eq!(
        evaluation.shortfalls,
        vec![DataShortfall {
            series: SeriesKey::Candles(clones_strategy::CandleKey::new("BTC", Timeframe::H1)),
            needed: 3,
            available: 2,
        }]
    );
    assert!(
        evaluate(&plan, &btc_hourly(&["1", "2", "3"]))
            .shortfalls
            .is_empty()
    );
}

#[test]
fn plan_reports_what_it_needs() {
    let plan = plan(
        json!({"version": 1, "nodes": [
            {"id": "d", "kind": "price", "params": {"asset": "ETH", "timeframe": "1d", "field": "close"}},
            {"id": "h", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}},
            {"id": "m", "kind": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}},
            {"id": "s", "kind": "sma", "params": {"period": 50}},
            {"id": "c", "kind": "crosses_above", "params": {}},
            {"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"percent_equity": "5"}}}
        ], "edges": [
            {"from": "h", "to": "m", "input": "source"},
            {"from": "d", "to": "s", "input": "source"},
            {"from": "m", "output": "line", "to": "c", "input": "left"},
            {"from": "m", "output": "signal", "to": "c", "input": "right"},
            {"from": "c", "to": "buy", "input": "when"}
        ]}),
        &open(),
    );
    let needs: Vec<(SeriesKey, u32)> = plan
        .requirements()
        .iter()
        .map(|requirement| (requirement.series.clone(), requirement.warmup_bars))
        .collect();
    // MACD signal: 26 + 9 - 1 = 34, plus one for the crossing; SMA(50): 50.
    assert_eq!(
        needs,
        vec![
            (
                SeriesKey::Candles(clones_strategy::CandleKey::new("BTC", Timeframe::H1)),
                35
            ),
            (
                SeriesKey::Candles(clones_strategy::CandleKey::new("ETH", Timeframe::D1)),
                50
            ),
        ]
    );
    assert_eq!(plan.timeframes(), vec![Timeframe::H1, Timeframe::D1]);
    assert_eq!(plan.assets(), ["BTC".to_owned(), "ETH".to_owned()]);
    assert_eq!(plan.traded_assets(), ["BTC".to_owned()]);
    assert_eq!(plan.warmup_bars(), 50);
    assert_eq!(
        plan.required_strength(),
        clones_strategy::ModelStrength::Basic
    );
}

#[test]
fn evaluation_is_deterministic_and_serializable() {
    let plan = crate::support::plan(
        serde_json::to_value(clones_strategy::default_draft_graph()).unwrap(),
        &open(),
    );
    let mut rng = crate::support::Rng::new(7);
    let window = MarketWindow::new().with_candles(
        "BTC",
        Timeframe::H1,
        crate::support::random_bars(&mut rng, 300, 3_600),
    );
    let first = evaluate(&plan, &window);
    let second = evaluate(&plan, &window.clone());
    assert_eq!(first, second);
    let json = serde_json::to_string(&first).unwrap();
    let back: clones_strategy::Evaluation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, first);
}
