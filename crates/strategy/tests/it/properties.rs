//! Property tests: random graphs never panic the parser or the compiler, evaluation is
//! deterministic and replay-consistent, and fingerprints ignore order and ids.

use std::collections::BTreeMap;

use clones_strategy::{
    ActionKind, CompareOp, Constraints, Edge, MarketWindow, ModelStrength, NODE_KINDS, Node,
    NodeKind, OutcomePoint, PriceField, STRATEGY_TIMEFRAMES, SeriesKey, SizeSpec, StrategyGraph,
    canonical_json, compile, evaluate, fingerprint, parse, parse_value, replay,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Rng, random_bars, universe};

// ---------------------------------------------------------------------------------------------
// Anything-goes graphs.

const IDS: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "", "bad id"];
const PORTS: [&str; 14] = [
    "out", "source", "left", "right", "inputs", "input", "when", "actions", "context", "high",
    "low", "close", "line", "upper",
];
const ASSETS: [&str; 4] = ["BTC", "ETH", "btc", ""];

fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (-2_000_i64..2_000, 0_u32..4).prop_map(|(n, scale)| Decimal::new(n, scale)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
    ]
}

fn any_period() -> impl Strategy<Value = u32> {
    prop_oneof![0_u32..12, Just(1_000), Just(1_001), Just(u32::MAX)]
}

fn any_size() -> impl Strategy<Value = SizeSpec> {
    prop_oneof![
        any_decimal().prop_map(SizeSpec::PercentEquity),
        any_decimal().prop_map(SizeSpec::Notional),
    ]
}

fn any_asset() -> impl Strategy<Value = String> {
    prop::sample::select(ASSETS.to_vec()).prop_map(str::to_owned)
}

fn any_kind() -> impl Strategy<Value = NodeKind> {
    let timeframe = prop::sample::select(STRATEGY_TIMEFRAMES.to_vec());
    let field = prop::sample::select(PriceField::ALL.to_vec());
    let op = prop::sample::select(CompareOp::ALL.to_vec());
    let action = prop::sample::select(ActionKind::ALL.to_vec());
    prop_oneof![
        (any_asset(), timeframe, field).prop_map(|(asset, timeframe, field)| NodeKind::Price {
            asset,
            timeframe,
            field
        }),
        Just(NodeKind::OutcomePrice {
            market: "m".to_owned(),
            outcome: "yes".to_owned()
        }),
        any_period().prop_map(|period| NodeKind::Sma { period }),
        any_period().prop_map(|period| NodeKind::Ema { period }),
        any_period().prop_map(|period| NodeKind::Rsi { period }),
        (any_period(), any_period(), any_period())
            .prop_map(|(fast, slow, signal)| NodeKind::Macd { fast, slow, signal }),
        any_period().prop_map(|period| NodeKind::Atr { period }),
        (any_period(), any_decimal())
            .prop_map(|(period, multiplier)| NodeKind::Bollinger { period, multiplier }),
        any_period().prop_map(|period| NodeKind::Returns { period }),
        any_period().prop_map(|period| NodeKind::Volatility { period }),
        (op, prop::option::of(any_decimal()))
            .prop_map(|(op, threshold)| NodeKind::Compare { op, threshold }),
        prop::option::of(any_decimal()).prop_map(|threshold| NodeKind::CrossesAbove { threshold }),
        prop::option::of(any_decimal()).prop_map(|threshold| NodeKind::CrossesBelow { threshold }),
        Just(NodeKind::And),
        Just(NodeKind::Or),
        Just(NodeKind::Not),
        (any_asset(), any_size()).prop_map(|(asset, size)| NodeKind::OpenLong { asset, size }),
        (any_asset(), any_size()).prop_map(|(asset, size)| NodeKind::OpenShort { asset, size }),
        any_asset().prop_map(|asset| NodeKind::Close { asset }),
        (any_asset(), any_size())
            .prop_map(|(asset, size)| NodeKind::TargetPosition { asset, size }),
        any_decimal().prop_map(|percent| NodeKind::StopLoss { percent }),
        any_decimal().prop_map(|percent| NodeKind::TakeProfit { percent }),
        any_size().prop_map(|size| NodeKind::MaxPosition { size }),
        (
            prop::sample::select(vec!["rule", "gpt-4o", "gpt-4o-mini", "unknown", ""]),
            prop::sample::select(vec!["", "go", "  "]),
            prop::collection::vec(action, 0..3),
            prop::collection::vec(any_asset(), 0..3),
        )
            .prop_map(|(model, guidance, allowed_actions, assets)| {
                NodeKind::LlmInstruction {
                    model: model.to_owned(),
                    guidance: guidance.to_owned(),
                    allowed_actions,
                    assets,
                }
            }),
    ]
}

fn any_edge() -> impl Strategy<Value = Edge> {
    let id = prop::sample::select([&IDS[..], &["zz"]].concat());
    let port = prop::sample::select(PORTS.to_vec());
    (id.clone(), prop::option::of(port.clone()), id, port).prop_map(|(from, output, to, input)| {
        Edge {
            from: from.to_owned(),
            output: output.map(str::to_owned),
            to: to.to_owned(),
            input: input.to_owned(),
        }
    })
}

fn any_graph() -> impl Strategy<Value = StrategyGraph> {
    (
        prop_oneof![9 => Just(1_u32), 1 => any::<u32>()],
        prop::collection::vec((prop::sample::select(IDS.to_vec()), any_kind()), 0..10),
        prop::collection::vec(any_edge(), 0..20),
    )
        .prop_map(|(version, nodes, edges)| StrategyGraph {
            version,
            nodes: nodes
                .into_iter()
                .map(|(id, kind)| Node {
                    id: id.to_owned(),
                    kind,
                })
                .collect(),
            edges,
        })
}

fn any_constraints() -> impl Strategy<Value = Constraints> {
    (
        prop::option::of(prop::sample::subsequence(vec!["BTC", "ETH"], 0..=2)),
        0_u32..3,
        prop::sample::select(ModelStrength::ALL.to_vec()),
    )
        .prop_map(
            |(assets, max_active_assets, max_model_strength)| Constraints {
                trade_universe: assets.map(|assets| universe(&assets).unwrap_or_default()),
                max_active_assets,
                max_model_strength,
            },
        )
}

/// Arbitrary JSON, biased towards the format's own field names and kinds.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "version",
        "nodes",
        "edges",
        "id",
        "kind",
        "params",
        "from",
        "to",
        "input",
        "output",
        "period",
        "asset",
        "size",
        "threshold",
        "op",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6_f64..1e6).prop_map(|n| json!(n)),
        prop::sample::select(NODE_KINDS.to_vec()).prop_map(|kind| json!(kind)),
        "[a-z0-9_ ]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6).prop_map(|map| Value::Object(
                map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Valid graphs, built from a recipe so that they compile.

#[derive(Debug, Clone)]
struct Recipe {
    sources: Vec<(usize, usize, usize, bool)>,
    indicators: Vec<(usize, u32, u32, usize)>,
    conditions: Vec<(usize, usize, usize, usize, Option<i64>)>,
    actions: Vec<(usize, usize, bool, bool)>,
    llm: Option<(Option<usize>, Vec<usize>)>,
}

fn any_recipe() -> impl Strategy<Value = Recipe> {
    (
        prop::collection::vec(
            (
                0_usize..2,
                0_usize..3,
                0_usize..5,
                prop::bool::weighted(0.15),
            ),
            1..3,
        ),
        prop::collection::vec((0_usize..8, 1_u32..8, 1_u32..5, any::<usize>()), 0..6),
        prop::collection::vec(
            (
                0_usize..6,
                0_usize..5,
                any::<usize>(),
                any::<usize>(),
                prop::option::of(-50_i64..150),
            ),
            1..6,
        ),
        prop::collection::vec(
            (0_usize..4, any::<usize>(), any::<bool>(), any::<bool>()),
            1..4,
        ),
        prop::option::of((
            prop::option::of(any::<usize>()),
            prop::collection::vec(any::<usize>(), 0..4),
        )),
    )
        .prop_map(|(sources, indicators, conditions, actions, llm)| Recipe {
            sources,
            indicators,
            conditions,
            actions,
            llm,
        })
}

const TIMEFRAMES: [&str; 3] = ["1m", "5m", "1h"];

fn build_graph(recipe: &Recipe) -> Value {
    let mut nodes: Vec<Value> = Vec::new();
    let mut edges: Vec<Value> = Vec::new();
    // (node id, output port) of every numeric output.
    let mut numbers: Vec<(String, Option<&str>)> = Vec::new();
    let mut booleans: Vec<String> = Vec::new();
    for (i, &(asset, timeframe, field, outcome)) in recipe.sources.iter().enumerate() {
        let id = format!("src{i}");
        if outcome {
            nodes.push(json!({"id": id, "kind": "outcome_price", "params": {"market": "m", "outcome": "yes"}}));
        } else {
            let asset = ["BTC", "ETH"][asset];
            let timeframe = TIMEFRAMES[timeframe];
            let field = ["open", "high", "low", "close", "volume"][field];
            nodes.push(json!({"id": id, "kind": "price", "params": {
                "asset": asset, "timeframe": timeframe, "field": field}}));
        }
        numbers.push((id, None));
    }
    for (i, &(kind, a, b, pick)) in recipe.indicators.iter().enumerate() {
        let id = format!("ind{i}");
        let (source, output) = numbers[pick % numbers.len()].clone();
        let wire = |input: &str| {
            let mut edge = json!({"from": source, "to": id, "input": input});
            if let Some(output) = output {
                edge["output"] = json!(output);
            }
            edge
        };
        let (node, ports): (Value, Vec<&str>) = match kind {
            0 => (
                json!({"id": id, "kind": "sma", "params": {"period": a}}),
                vec!["out"],
            ),
            1 => (
                json!({"id": id, "kind": "ema", "params": {"period": a}}),
                vec!["out"],
            ),
            2 => (
                json!({"id": id, "kind": "rsi", "params": {"period": a}}),
                vec!["out"],
            ),
            3 => (
                json!({"id": id, "kind": "macd", "params": {"fast": b, "slow": b + a, "signal": a}}),
                vec!["line", "signal", "histogram"],
            ),
            4 => (
                json!({"id": id, "kind": "atr", "params": {"period": a}}),
                vec!["out"],
            ),
            5 => (
                json!({"id": id, "kind": "bollinger", "params": {"period": a, "multiplier": b}}),
                vec!["upper", "middle", "lower"],
            ),
            6 => (
                json!({"id": id, "kind": "returns", "params": {"period": a}}),
                vec!["out"],
            ),
            _ => (
                json!({"id": id, "kind": "volatility", "params": {"period": a + 1}}),
                vec!["out"],
            ),
        };
        if kind == 4 {
            edges.extend([wire("high"), wire("low"), wire("close")]);
        } else {
            edges.push(wire("source"));
        }
        nodes.push(node);
        for port in ports {
            numbers.push((id.clone(), (port != "out").then_some(port)));
        }
    }
    let number_edge = |(from, output): &(String, Option<&str>), to: &str, input: &str| {
        let mut edge = json!({"from": from, "to": to, "input": input});
        if let Some(output) = output {
            edge["output"] = json!(output);
        }
        edge
    };
    for (i, &(kind, op, left, right, threshold)) in recipe.conditions.iter().enumerate() {
        let id = format!("cond{i}");
        let op = ["gt", "gte", "lt", "lte", "eq"][op];
        let left = &numbers[left % numbers.len()];
        match kind {
            0..=2 => {
                let name = ["compare", "crosses_above", "crosses_below"][kind];
                let mut params = if kind == 0 {
                    json!({"op": op})
                } else {
                    json!({})
                };
                edges.push(number_edge(left, &id, "left"));
                match threshold {
                    Some(threshold) => params["threshold"] = json!(threshold),
                    None => edges.push(number_edge(&numbers[right % numbers.len()], &id, "right")),
                }
                nodes.push(json!({"id": id, "kind": name, "params": params}));
            }
            3 | 4 if booleans.len() >= 2 => {
                let first = right % booleans.len();
                let second = (first
                    + 1
                    + threshold.unwrap_or(0).unsigned_abs() as usize % (booleans.len() - 1))
                    % booleans.len();
                nodes.push(json!({"id": id, "kind": if kind == 3 { "and" } else { "or" }}));
                edges.push(json!({"from": booleans[first], "to": id, "input": "inputs"}));
                edges.push(json!({"from": booleans[second], "to": id, "input": "inputs"}));
            }
            _ if !booleans.is_empty() => {
                nodes.push(json!({"id": id, "kind": "not"}));
                edges.push(
                    json!({"from": booleans[right % booleans.len()], "to": id, "input": "input"}),
                );
            }
            _ => {
                nodes.push(
                    json!({"id": id, "kind": "compare", "params": {"op": op, "threshold": 0}}),
                );
                edges.push(number_edge(left, &id, "left"));
            }
        }
        booleans.push(id);
    }
    for (i, &(kind, pick, stop, take)) in recipe.actions.iter().enumerate() {
        let id = format!("act{i}");
        let size = json!({"percent_equity": "10"});
        let node = match kind {
            0 => json!({"id": id, "kind": "open_long", "params": {"asset": "BTC", "size": size}}),
            1 => json!({"id": id, "kind": "open_short", "params": {"asset": "BTC", "size": size}}),
            2 => {
                json!({"id": id, "kind": "target_position", "params": {"asset": "BTC", "size": {"notional": "-500"}}})
            }
            _ => json!({"id": id, "kind": "close", "params": {"asset": "BTC"}}),
        };
        nodes.push(node);
        edges.push(json!({"from": booleans[pick % booleans.len()], "to": id, "input": "when"}));
        if kind != 3 {
            if stop {
                nodes.push(json!({"id": format!("stop{i}"), "kind": "stop_loss", "params": {"percent": 3}}));
                edges.push(json!({"from": id, "to": format!("stop{i}"), "input": "actions"}));
            }
            if take {
                nodes.push(json!({"id": format!("cap{i}"), "kind": "max_position", "params": {"size": {"notional": "1000"}}}));
                edges.push(json!({"from": id, "to": format!("cap{i}"), "input": "actions"}));
            }
        }
    }
    if let Some((when, context)) = &recipe.llm {
        nodes.push(json!({"id": "ask", "kind": "llm_instruction", "params": {
            "model": "gpt-4o", "guidance": "Decide.", "allowed_actions": ["open_long", "close"], "assets": ["BTC"]}}));
        if let Some(when) = when {
            edges.push(
                json!({"from": booleans[when % booleans.len()], "to": "ask", "input": "when"}),
            );
        }
        let mut used = std::collections::BTreeSet::new();
        for pick in context {
            let index = pick % numbers.len();
            if used.insert(index) {
                edges.push(number_edge(&numbers[index], "ask", "context"));
            }
        }
    }
    json!({"version": 1, "nodes": nodes, "edges": edges})
}

/// Candles for every series the plan reads, and outcome prices.
fn window_for(plan: &clones_strategy::CompiledPlan, seed: u64, bars: usize) -> MarketWindow {
    let mut rng = Rng::new(seed);
    let mut window = MarketWindow::new();
    for requirement in plan.requirements() {
        match &requirement.series {
            SeriesKey::Candles(key) => {
                let seconds = key.timeframe.seconds().unwrap();
                window = window.with_candles(
                    &key.asset,
                    key.timeframe,
                    random_bars(&mut rng, bars, seconds),
                );
            }
            SeriesKey::Outcome(key) => {
                let points = (0..bars as i64)
                    .map(|i| OutcomePoint {
                        time: i * 97,
                        price: Decimal::new(rng.below(101) as i64, 2),
                    })
                    .collect();
                window = window.with_outcome(&key.market, &key.outcome, points);
            }
        }
    }
    window
}

/// The same graph with nodes and edges shuffled and every id renamed.
fn scramble(graph: &StrategyGraph, seed: u64) -> StrategyGraph {
    let mut rng = Rng::new(seed);
    let mut names: Vec<usize> = (0..graph.nodes.len()).collect();
    rng.shuffle(&mut names);
    let renamed: BTreeMap<&str, String> = graph
        .nodes
        .iter()
        .zip(&names)
        .map(|(node, name)| {
            (
                node.id.as_str(),
                format!("node_{name}_{}", rng.below(1_000)),
            )
        })
        .collect();
    let rename = |id: &str| {
        renamed
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("missing_{id}"))
    };
    let mut nodes: Vec<Node> = graph
        .nodes
        .iter()
        .map(|node| Node {
            id: rename(&node.id),
            kind: node.kind.clone(),
        })
        .collect();
    let mut edges: Vec<Edge> = graph
        .edges
        .iter()
        .map(|edge| Edge {
            from: rename(&edge.from),
            output: edge.output.clone(),
            to: rename(&edge.to),
            input: edge.input.clone(),
        })
        .collect();
    rng.shuffle(&mut nodes);
    rng.shuffle(&mut edges);
    StrategyGraph {
        version: graph.version,
        nodes,
        edges,
    }
}

fn has_unique_ids(graph: &StrategyGraph) -> bool {
    let ids: std::collections::BTreeSet<&str> =
        graph.nodes.iter().map(|node| node.id.as_str()).collect();
    ids.len() == graph.nodes.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_never_panic(graph in any_graph(), constraints in any_constraints(), seed in any::<u64>()) {
        let result = compile(&graph, &constraints);
        if let Ok(plan) = &result {
            let window = window_for(plan, seed, 40);
            let _ = evaluate(plan, &window);
            let _ = replay(plan, &window).map(Iterator::count);
        } else if let Err(errors) = &result {
            prop_assert!(!errors.is_empty());
        }
        let _ = canonical_json(&graph);
        let _ = fingerprint(&graph);
        // Through JSON too.
        let text = graph.to_json();
        let _ = parse(&text).map(|parsed| compile(&parsed, &constraints));
    }

    #[test]
    fn random_json_never_panics_the_parser(value in any_json()) {
        let _ = parse_value(&value).map(|graph| compile(&graph, &Constraints::unrestricted()));
        let _ = parse(&value.to_string());
    }

    #[test]
    fn random_text_never_panics_the_parser(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn fingerprint_ignores_order_and_ids(graph in any_graph(), seed in any::<u64>()) {
        prop_assume!(has_unique_ids(&graph));
        let scrambled = scramble(&graph, seed);
        prop_assert_eq!(canonical_json(&graph), canonical_json(&scrambled));
        prop_assert_eq!(fingerprint(&graph), fingerprint(&scrambled));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn valid_graphs_compile_and_evaluate_deterministically(recipe in any_recipe(), seed in any::<u64>()) {
        let graph = parse_value(&build_graph(&recipe)).unwrap();
        let plan = match compile(&graph, &Constraints::unrestricted()) {
            Ok(plan) => plan,
            Err(errors) => return Err(TestCaseError::fail(format!("{errors}"))),
        };
        let window = window_for(&plan, seed, 60);
        let first = evaluate(&plan, &window);
        prop_assert_eq!(&first, &evaluate(&plan, &window.clone()));
        // Compiling again gives the same plan and the same result.
        let again = compile(&graph, &Constraints::unrestricted()).unwrap();
        prop_assert_eq!(&again, &plan);
        prop_assert_eq!(&first, &evaluate(&again, &window));
        // The scrambled graph is the same strategy: same fingerprint, same data needs.
        let scrambled = scramble(&graph, seed);
        prop_assert_eq!(fingerprint(&graph), fingerprint(&scrambled));
        let scrambled_plan = compile(&scrambled, &Constraints::unrestricted()).unwrap();
        prop_assert_eq!(scrambled_plan.requirements(), plan.requirements());
        // The canonical form is a valid document with the same fingerprint.
        let canonical = parse(&canonical_json(&graph)).unwrap();
        prop_assert_eq!(canonical_json(&canonical), canonical_json(&graph));
        compile(&canonical, &Constraints::unrestricted()).unwrap();
    }

    #[test]
    fn replay_equals_evaluating_each_moment(recipe in any_recipe(), seed in any::<u64>()) {
        let graph = parse_value(&build_graph(&recipe)).unwrap();
        let plan = compile(&graph, &Constraints::unrestricted()).unwrap();
        let window = window_for(&plan, seed, 30);
        for step in replay(&plan, &window).unwrap() {
            prop_assert_eq!(step.evaluation, evaluate(&plan, &window.as_of(step.time)));
        }
    }

    #[test]
    fn next_actions_equal_the_replays_actions(recipe in any_recipe(), seed in any::<u64>()) {
        let graph = parse_value(&build_graph(&recipe)).unwrap();
        let plan = compile(&graph, &Constraints::unrestricted()).unwrap();
        let window = window_for(&plan, seed, 60);
        let mut lazy = replay(&plan, &window).unwrap();
        for step in replay(&plan, &window).unwrap() {
            let (time, actions) = lazy.next_actions().unwrap();
            prop_assert_eq!(time, step.time);
            prop_assert_eq!(actions.cloned().collect::<Vec<_>>(), step.evaluation.actions);
        }
        prop_assert!(lazy.next_actions().is_none());
    }
}
