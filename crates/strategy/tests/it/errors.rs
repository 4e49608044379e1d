//! One test per error code, plus "every error is reported".

use clones_strategy::{
    Constraints, Edge, ErrorCode, MAX_FAN_IN, ModelStrength, Node, NodeKind, StrategyGraph,
    compile, compile_json, default_draft_graph, limits, parse,
};
use serde_json::{Value, json};

use crate::support::{codes, errors, open, starter, universe};

fn parse_codes(text: &str) -> Vec<ErrorCode> {
    codes(&parse(text).unwrap_err())
}

/// A valid skeleton: BTC 1h close > 100 opens a long. Extra nodes and edges are appended.
fn with(extra_nodes: Value, extra_edges: Value) -> Value {
    let mut nodes = vec![
        json!({"id": "p", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}}),
        json!({"id": "up", "kind": "compare", "params": {"op": "gt", "threshold": 100}}),
        json!({"id": "buy", "kind": "open_long", "params": {"asset": "BTC", "size": {"percent_equity": "10"}}}),
    ];
    nodes.extend(extra_nodes.as_array().cloned().unwrap_or_default());
    let mut edges = vec![
        json!({"from": "p", "to": "up", "input": "left"}),
        json!({"from": "up", "to": "buy", "input": "when"}),
    ];
    edges.extend(extra_edges.as_array().cloned().unwrap_or_default());
    json!({"version": 1, "nodes": nodes, "edges": edges})
}

fn only(value: Value) -> (ErrorCode, Option<String>) {
    let errors = errors(value, &open());
    assert_eq!(errors.len(), 1, "{errors}");
    let error = &errors.as_slice()[0];
    (error.code, error.node.clone())
}

#[test]
fn the_skeleton_compiles() {
    crate::support::plan(with(json!([]), json!([])), &starter());
}

#[test]
fn invalid_json() {
    assert_eq!(
        parse_codes("{\"version\": 1,"),
        vec![ErrorCode::InvalidJson]
    );
    assert_eq!(parse_codes("null"), vec![ErrorCode::InvalidJson]);
    assert_eq!(
        parse_codes(r#"{"version":1,"nodes":[],"edges":[{"from":1,"to":"a","input":"x"}]}"#),
        vec![ErrorCode::InvalidJson]
    );
}

#[test]
fn missing_field() {
    assert_eq!(
        parse_codes(r#"{"version":1,"nodes":[]}"#),
        vec![ErrorCode::MissingField]
    );
    assert_eq!(
        parse_codes(r#"{"version":1,"nodes":[{"kind":"and"}],"edges":[]}"#),
        vec![ErrorCode::MissingField]
    );
}

#[test]
fn unknown_field() {
    assert_eq!(
        parse_codes(r#"{"version":1,"nodes":[],"edges":[],"author":"me"}"#),
        vec![ErrorCode::UnknownField]
    );
    assert_eq!(
        parse_codes(
            r#"{"version":1,"nodes":[{"id":"a","kind":"not","params":{"x":1}}],"edges":[]}"#
        ),
        vec![ErrorCode::UnknownField]
    );
}

#[test]
fn unknown_node_kind() {
    let errors = parse(r#"{"version":1,"nodes":[{"id":"w","kind":"wma","params":{}}],"edges":[]}"#)
        .unwrap_err();
    assert_eq!(codes(&errors), vec![ErrorCode::UnknownNodeKind]);
    assert_eq!(errors.as_slice()[0].node.as_deref(), Some("w"));
}

#[test]
fn unsupported_version() {
    assert_eq!(
        parse_codes(r#"{"version":0,"nodes":[],"edges":[]}"#),
        vec![ErrorCode::UnsupportedVersion]
    );
    let mut graph = default_draft_graph();
    graph.version = 2;
    assert_eq!(
        codes(&compile(&graph, &open()).unwrap_err()),
        vec![ErrorCode::UnsupportedVersion]
    );
}

#[test]
fn graph_too_large() {
    let node = |i: usize| Node {
        id: format!("n{i}"),
        kind: NodeKind::Not,
    };
    let graph = StrategyGraph {
        version: 1,
        nodes: (0..=limits::MAX_NODES).map(node).collect(),
        edges: Vec::new(),
    };
    assert_eq!(
        codes(&compile(&graph, &open()).unwrap_err()),
        vec![ErrorCode::GraphTooLarge]
    );
    let graph = StrategyGraph {
        version: 1,
        nodes: vec![node(0)],
        edges: (0..=limits::MAX_EDGES)
            .map(|_| Edge::new("n0", "n0", "input"))
            .collect(),
    };
    assert_eq!(
        codes(&compile(&graph, &open()).unwrap_err()),
        vec![ErrorCode::GraphTooLarge]
    );
}

#[test]
fn invalid_node_id() {
    for id in ["", "has space", "é", &"x".repeat(65)] {
        let value = with(
            json!([{"id": id, "kind": "stop_loss", "params": {"percent": 5}}]),
            json!([{"from": "buy", "to": id, "input": "actions"}]),
        );
        assert_eq!(only(value), (ErrorCode::InvalidNodeId, Some(id.to_owned())));
    }
}

#[test]
fn duplicate_node_id() {
    let value = with(
        json!([{"id": "p", "kind": "price", "params": {"asset": "BTC", "timeframe": "4h", "field": "open"}}]),
        json!([]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::DuplicateNodeId, Some("p".to_owned()))
    );
}

#[test]
fn missing_param() {
    let errors = parse(
        r#"{"version":1,"nodes":[{"id":"m","kind":"macd","params":{"fast":12}}],"edges":[]}"#,
    )
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![ErrorCode::MissingParam, ErrorCode::MissingParam]
    );
    assert!(errors.as_slice()[0].message.contains("`slow`"));
}

#[test]
fn invalid_param() {
    let cases = [
        json!({"id": "x", "kind": "sma", "params": {"period": 0}}),
        json!({"id": "x", "kind": "ema", "params": {"period": 1001}}),
        json!({"id": "x", "kind": "volatility", "params": {"period": 1}}),
        json!({"id": "x", "kind": "macd", "params": {"fast": 26, "slow": 12, "signal": 9}}),
        json!({"id": "x", "kind": "bollinger", "params": {"period": 20, "multiplier": "0"}}),
        json!({"id": "x", "kind": "bollinger", "params": {"period": 20, "multiplier": "10.5"}}),
        json!({"id": "x", "kind": "price", "params": {"asset": "btc", "timeframe": "1h", "field": "close"}}),
        json!({"id": "x", "kind": "outcome_price", "params": {"market": "has space", "outcome": "yes"}}),
        json!({"id": "x", "kind": "stop_loss", "params": {"percent": 0}}),
        json!({"id": "x", "kind": "stop_loss", "params": {"percent": 100.5}}),
        json!({"id": "x", "kind": "take_profit", "params": {"percent": -1}}),
        json!({"id": "x", "kind": "max_position", "params": {"size": {"notional": "1000000000001"}}}),
        json!({"id": "x", "kind": "open_short", "params": {"asset": "BTC", "size": {"percent_equity": "0"}}}),
        json!({"id": "x", "kind": "target_position", "params": {"asset": "BTC", "size": {"percent_equity": "-1001"}}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "rule", "guidance": "g", "allowed_actions": ["close"], "assets": ["BTC"]}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "x".repeat(4_001), "allowed_actions": ["close"], "assets": ["BTC"]}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "  ", "allowed_actions": ["close"], "assets": ["BTC"]}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "g", "allowed_actions": [], "assets": ["BTC"]}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "g", "allowed_actions": ["close", "close"], "assets": ["BTC"]}}),
        json!({"id": "x", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "g", "allowed_actions": ["close"], "assets": []}}),
    ];
    for node in cases {
        // Wire the node so that only its parameters are wrong.
        let kind = node["kind"].as_str().unwrap().to_owned();
        let edges = match kind.as_str() {
            "sma" | "ema" | "volatility" | "macd" | "bollinger" => {
                json!([{"from": "p", "to": "x", "input": "source"}])
            }
            "stop_loss" | "take_profit" | "max_position" => {
                json!([{"from": "buy", "to": "x", "input": "actions"}])
            }
            "open_short" | "target_position" => json!([{"from": "up", "to": "x", "input": "when"}]),
            _ => json!([]),
        };
        let value = with(json!([node]), edges);
        assert_eq!(
            only(value),
            (ErrorCode::InvalidParam, Some("x".to_owned())),
            "{kind}"
        );
    }
    // Both a `right` input and a `threshold`.
    let value = with(
        json!([]),
        json!([{"from": "p", "to": "up", "input": "right"}]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::InvalidParam, Some("up".to_owned()))
    );
}

#[test]
fn dangling_edge() {
    let errors = errors(
        with(
            json!([]),
            json!([{"from": "ghost", "to": "up", "input": "right"}]),
        ),
        &open(),
    );
    assert_eq!(codes(&errors), vec![ErrorCode::DanglingEdge]);
    assert_eq!(errors.as_slice()[0].edge, Some(2));
    assert_eq!(errors.as_slice()[0].node.as_deref(), Some("up"));
}

#[test]
fn unknown_port() {
    let value = with(
        json!([{"id": "s", "kind": "sma", "params": {"period": 3}}]),
        json!([{"from": "p", "to": "s", "input": "src"}]),
    );
    let found = errors(value, &open());
    assert_eq!(
        codes(&found),
        vec![ErrorCode::UnknownPort, ErrorCode::MissingInput]
    );
    let value = with(
        json!([{"id": "s", "kind": "sma", "params": {"period": 3}}]),
        json!([{"from": "p", "output": "close", "to": "s", "input": "source"}]),
    );
    let found = errors(value, &open());
    assert_eq!(
        codes(&found),
        vec![ErrorCode::UnknownPort, ErrorCode::MissingInput]
    );
    assert!(found.as_slice()[0].message.contains("no output `close`"));
    let value = with(
        json!([{"id": "stop", "kind": "stop_loss", "params": {"percent": 5}}]),
        json!([
            {"from": "buy", "to": "stop", "input": "actions"},
            {"from": "stop", "to": "buy", "input": "when"}
        ]),
    );
    let found = errors(value, &open());
    assert_eq!(codes(&found), vec![ErrorCode::UnknownPort]);
    assert!(found.as_slice()[0].message.contains("has no outputs"));
}

#[test]
fn ambiguous_output() {
    let value = with(
        json!([
            {"id": "m", "kind": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}},
            {"id": "s", "kind": "sma", "params": {"period": 3}}
        ]),
        json!([
            {"from": "p", "to": "m", "input": "source"},
            {"from": "m", "to": "s", "input": "source"}
        ]),
    );
    let errors = errors(value, &open());
    assert_eq!(
        codes(&errors),
        vec![ErrorCode::AmbiguousOutput, ErrorCode::MissingInput]
    );
    assert!(errors.as_slice()[0].message.contains("`histogram`"));
}

#[test]
fn type_mismatch() {
    let value = with(
        json!([{"id": "sell", "kind": "close", "params": {"asset": "BTC"}}]),
        json!([{"from": "p", "to": "sell", "input": "when"}]),
    );
    let errors = errors(value, &open());
    assert_eq!(
        codes(&errors),
        vec![ErrorCode::TypeMismatch, ErrorCode::MissingInput]
    );
    assert!(errors.as_slice()[0].message.contains("number"));
    assert!(errors.as_slice()[0].message.contains("bool"));
}

#[test]
fn missing_input() {
    let value = with(
        json!([{"id": "s", "kind": "sma", "params": {"period": 3}}]),
        json!([]),
    );
    assert_eq!(only(value), (ErrorCode::MissingInput, Some("s".to_owned())));
    let value = with(
        json!([{"id": "both", "kind": "and"}]),
        json!([{"from": "up", "to": "both", "input": "inputs"}]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::MissingInput, Some("both".to_owned()))
    );
    let value = with(
        json!([{"id": "c", "kind": "crosses_above"}]),
        json!([{"from": "p", "to": "c", "input": "left"}]),
    );
    assert_eq!(only(value), (ErrorCode::MissingInput, Some("c".to_owned())));
}

#[test]
fn too_many_inputs() {
    let value = with(
        json!([
            {"id": "p2", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "open"}},
            {"id": "s", "kind": "sma", "params": {"period": 3}}
        ]),
        json!([
            {"from": "p", "to": "s", "input": "source"},
            {"from": "p2", "to": "s", "input": "source"}
        ]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::TooManyInputs, Some("s".to_owned()))
    );

    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for i in 0..=MAX_FAN_IN {
        nodes.push(json!({"id": format!("c{i}"), "kind": "compare", "params": {"op": "gt", "threshold": i}}));
        edges.push(json!({"from": "p", "to": format!("c{i}"), "input": "left"}));
        edges.push(json!({"from": format!("c{i}"), "to": "all", "input": "inputs"}));
    }
    nodes.push(json!({"id": "all", "kind": "and"}));
    assert_eq!(
        only(with(json!(nodes), json!(edges))),
        (ErrorCode::TooManyInputs, Some("all".to_owned()))
    );
}

#[test]
fn duplicate_edge() {
    let value = with(
        json!([]),
        json!([{"from": "up", "output": "out", "to": "buy", "input": "when"}]),
    );
    let errors = errors(value, &open());
    assert_eq!(codes(&errors), vec![ErrorCode::DuplicateEdge]);
    assert_eq!(errors.as_slice()[0].edge, Some(2));
}

#[test]
fn cycle() {
    let value = with(
        json!([
            {"id": "a", "kind": "and"},
            {"id": "b", "kind": "or"},
            {"id": "after", "kind": "not"}
        ]),
        json!([
            {"from": "up", "to": "a", "input": "inputs"},
            {"from": "b", "to": "a", "input": "inputs"},
            {"from": "up", "to": "b", "input": "inputs"},
            {"from": "a", "to": "b", "input": "inputs"},
            {"from": "a", "to": "after", "input": "input"}
        ]),
    );
    let errors = errors(value, &open());
    assert_eq!(codes(&errors), vec![ErrorCode::Cycle]);
    let message = &errors.as_slice()[0].message;
    assert!(message.contains("a, b"), "{message}");
    assert!(!message.contains("after"), "{message}");

    let value = with(
        json!([{"id": "self", "kind": "not"}]),
        json!([{"from": "self", "to": "self", "input": "input"}]),
    );
    assert_eq!(only(value), (ErrorCode::Cycle, Some("self".to_owned())));
}

#[test]
fn series_mismatch() {
    let value = with(
        json!([
            {"id": "eth", "kind": "price", "params": {"asset": "ETH", "timeframe": "1h", "field": "low"}},
            {"id": "atr", "kind": "atr", "params": {"period": 14}}
        ]),
        json!([
            {"from": "p", "to": "atr", "input": "high"},
            {"from": "eth", "to": "atr", "input": "low"},
            {"from": "p", "to": "atr", "input": "close"}
        ]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::SeriesMismatch, Some("atr".to_owned()))
    );
}

#[test]
fn warmup_too_long() {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut previous = "p".to_owned();
    for i in 0..12 {
        let id = format!("s{i}");
        nodes.push(json!({"id": id, "kind": "sma", "params": {"period": 1000}}));
        edges.push(json!({"from": previous, "to": id, "input": "source"}));
        previous = id;
    }
    // 1 + 11 * 999 = 10 990 > 10 000 at s10; s11 is not reported again.
    assert_eq!(
        only(with(json!(nodes), json!(edges))),
        (ErrorCode::WarmupTooLong, Some("s10".to_owned()))
    );
}

#[test]
fn invalid_risk_target() {
    let value = with(
        json!([
            {"id": "sell", "kind": "close", "params": {"asset": "BTC"}},
            {"id": "stop", "kind": "stop_loss", "params": {"percent": 5}}
        ]),
        json!([
            {"from": "up", "to": "sell", "input": "when"},
            {"from": "sell", "to": "stop", "input": "actions"}
        ]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::InvalidRiskTarget, Some("stop".to_owned()))
    );
}

#[test]
fn duplicate_risk_rule() {
    let value = with(
        json!([
            {"id": "stop1", "kind": "stop_loss", "params": {"percent": 5}},
            {"id": "stop2", "kind": "stop_loss", "params": {"percent": 3}},
            {"id": "tp", "kind": "take_profit", "params": {"percent": 10}}
        ]),
        json!([
            {"from": "buy", "to": "stop1", "input": "actions"},
            {"from": "buy", "to": "stop2", "input": "actions"},
            {"from": "buy", "to": "tp", "input": "actions"}
        ]),
    );
    assert_eq!(
        only(value),
        (ErrorCode::DuplicateRiskRule, Some("buy".to_owned()))
    );
}

#[test]
fn no_action() {
    let value = json!({"version": 1, "nodes": [
        {"id": "p", "kind": "price", "params": {"asset": "BTC", "timeframe": "1h", "field": "close"}}
    ], "edges": []});
    assert_eq!(only(value), (ErrorCode::NoAction, None));
    let empty = json!({"version": 1, "nodes": [], "edges": []});
    assert_eq!(only(empty), (ErrorCode::NoAction, None));
}

#[test]
fn asset_not_in_universe() {
    let constraints = Constraints {
        trade_universe: universe(&["ETH"]),
        ..open()
    };
    let errors = errors(with(json!([]), json!([])), &constraints);
    let found: Vec<(ErrorCode, Option<&str>)> =
        errors.iter().map(|e| (e.code, e.node.as_deref())).collect();
    assert_eq!(
        found,
        vec![
            (ErrorCode::AssetNotInUniverse, Some("p")),
            (ErrorCode::AssetNotInUniverse, Some("buy")),
        ]
    );
    assert!(ErrorCode::AssetNotInUniverse.is_entitlement());
    let constraints = Constraints {
        trade_universe: universe(&["BTC"]),
        ..starter()
    };
    crate::support::plan(with(json!([]), json!([])), &constraints);
}

#[test]
fn too_many_assets() {
    let value = with(
        json!([
            {"id": "eth", "kind": "price", "params": {"asset": "ETH", "timeframe": "1h", "field": "close"}},
            {"id": "e", "kind": "sma", "params": {"period": 2}}
        ]),
        json!([{"from": "eth", "to": "e", "input": "source"}]),
    );
    let errors = errors(value.clone(), &starter());
    assert_eq!(codes(&errors), vec![ErrorCode::TooManyAssets]);
    assert!(errors.as_slice()[0].message.contains("BTC, ETH"));
    let two = Constraints {
        max_active_assets: 2,
        ..starter()
    };
    crate::support::plan(value, &two);
}

#[test]
fn model_not_allowed() {
    let llm = |model: &str| {
        with(
            json!([{"id": "ask", "kind": "llm_instruction", "params": {
                "model": model, "guidance": "Buy dips.", "allowed_actions": ["open_long"], "assets": ["BTC"]}}]),
            json!([]),
        )
    };
    let standard = Constraints {
        max_model_strength: ModelStrength::Standard,
        ..open()
    };
    crate::support::plan(llm("gpt-4o-mini"), &standard);
    for model in ["gpt-4o", "some-new-model"] {
        let errors = errors(llm(model), &standard);
        assert_eq!(codes(&errors), vec![ErrorCode::ModelNotAllowed], "{model}");
        assert_eq!(errors.as_slice()[0].node.as_deref(), Some("ask"));
    }
    let advanced = Constraints {
        max_model_strength: ModelStrength::Advanced,
        ..open()
    };
    assert_eq!(
        codes(&errors(llm("some-new-model"), &advanced)),
        vec![ErrorCode::ModelNotAllowed]
    );
    crate::support::plan(llm("some-new-model"), &open());
}

#[test]
fn every_error_is_reported_at_once() {
    let value = json!({"version": 1, "nodes": [
        {"id": "p", "kind": "price", "params": {"asset": "DOGE", "timeframe": "1h", "field": "close"}},
        {"id": "p", "kind": "sma", "params": {"period": 0}},
        {"id": "s", "kind": "sma", "params": {"period": 5}},
        {"id": "ask", "kind": "llm_instruction", "params": {"model": "gpt-4o", "guidance": "hi", "allowed_actions": ["close"], "assets": ["ETH"]}}
    ], "edges": [
        {"from": "nowhere", "to": "s", "input": "source"},
        {"from": "p", "to": "ask", "input": "when"}
    ]});
    let constraints = Constraints {
        trade_universe: universe(&["BTC"]),
        max_active_assets: 1,
        max_model_strength: ModelStrength::Basic,
    };
    let errors = errors(value, &constraints);
    assert_eq!(
        errors.codes(),
        vec![
            ErrorCode::DuplicateNodeId,
            ErrorCode::InvalidParam,
            ErrorCode::DanglingEdge,
            ErrorCode::TypeMismatch,
            ErrorCode::MissingInput,
            ErrorCode::AssetNotInUniverse,
            ErrorCode::TooManyAssets,
            ErrorCode::ModelNotAllowed,
        ]
    );
}

#[test]
fn compile_json_reports_parse_errors_first() {
    let errors = compile_json(
        r#"{"version":1,"nodes":[{"id":"a","kind":"?"}],"edges":[]}"#,
        &open(),
    )
    .unwrap_err();
    assert_eq!(codes(&errors), vec![ErrorCode::UnknownNodeKind]);
}

#[test]
fn every_code_is_covered_by_a_test_here() {
    // Keeps this file honest: a new code needs a test above.
    let source = include_str!("errors.rs");
    for code in ErrorCode::ALL {
        let name = code.as_str();
        assert!(
            source.contains(&format!("fn {name}()")),
            "no test named `{name}` for code `{name}`"
        );
    }
}
