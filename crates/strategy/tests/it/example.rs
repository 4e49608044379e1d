//! The full example of `docs/strategy-format.md`, kept in `tests/fixtures/example.json`.

use clones_market::Timeframe;
use clones_strategy::{
    Constraints, MarketWindow, ModelStrength, OutcomePoint, canonical_json, compile, evaluate,
    parse,
};
use rust_decimal::Decimal;

use crate::support::{Rng, random_bars};

const EXAMPLE: &str = include_str!("../fixtures/example.json");

/// The constraints the example is documented to compile under.
fn constraints() -> Constraints {
    Constraints {
        trade_universe: None,
        max_active_assets: 1,
        max_model_strength: ModelStrength::Standard,
    }
}

#[test]
fn the_example_parses_and_compiles() {
    let graph = parse(EXAMPLE).unwrap();
    let plan = compile(&graph, &constraints()).unwrap();
    assert_eq!(plan.assets(), ["BTC".to_owned()]);
    assert_eq!(plan.models(), ["gpt-4o-mini".to_owned()]);
    assert_eq!(plan.required_strength(), ModelStrength::Standard);
    let kinds: std::collections::BTreeSet<&str> =
        graph.nodes.iter().map(|node| node.kind.name()).collect();
    assert!(kinds.len() >= 20, "the example shows most kinds: {kinds:?}");
}

#[test]
fn the_documentation_shows_exactly_the_fixture() {
    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/strategy-format.md");
    let doc = std::fs::read_to_string(doc_path).unwrap();
    assert!(
        doc.contains(EXAMPLE.trim_end()),
        "docs/strategy-format.md must contain tests/fixtures/example.json verbatim"
    );
}

#[test]
fn the_example_evaluates_on_data() {
    let plan = compile(&parse(EXAMPLE).unwrap(), &constraints()).unwrap();
    let mut rng = Rng::new(11);
    let window = MarketWindow::new()
        .with_candles("BTC", Timeframe::H1, random_bars(&mut rng, 500, 3_600))
        .with_outcome(
            "us-election-2028",
            "yes",
            (0..100)
                .map(|i| OutcomePoint {
                    time: i * 3_600,
                    price: Decimal::new(40 + i % 7, 2),
                })
                .collect(),
        );
    let evaluation = evaluate(&plan, &window);
    assert!(
        evaluation.shortfalls.is_empty(),
        "{:?}",
        evaluation.shortfalls
    );
    assert_eq!(evaluation, evaluate(&plan, &window));
    let steps = clones_strategy::evaluate_history(&plan, &window).unwrap();
    assert!(steps.iter().any(|step| !step.evaluation.is_idle()));
}

#[test]
fn the_example_canonical_form_round_trips() {
    let graph = parse(EXAMPLE).unwrap();
    let canonical = canonical_json(&graph);
    let again = parse(&canonical).unwrap();
    assert_eq!(canonical_json(&again), canonical);
    compile(&again, &constraints()).unwrap();
}
