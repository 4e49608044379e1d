//! The default draft: valid under the most restrictive plan, behaves as described, and its
//! canonical form and fingerprint are pinned.

use clones_market::Timeframe;
use clones_strategy::{
    ActionKind, CandleKey, ErrorCode, RiskKind, SeriesKey, canonical_json, compile,
    default_draft_graph, evaluate, fingerprint, fingerprint_hex, to_hex,
};
use rust_decimal::Decimal;

use crate::support::{btc_hourly, starter, universe};

/// The canonical JSON of the default draft. Changing it changes every draft's fingerprint.
const DRAFT_CANONICAL: &str = concat!(
    r#"{"edges":["#,
    r#"{"from":"n1","input":"when","output":"out","to":"n5"},"#,
    r#"{"from":"n2","input":"when","output":"out","to":"n0"},"#,
    r#"{"from":"n3","input":"left","output":"out","to":"n1"},"#,
    r#"{"from":"n3","input":"left","output":"out","to":"n2"},"#,
    r#"{"from":"n4","input":"right","output":"out","to":"n1"},"#,
    r#"{"from":"n4","input":"right","output":"out","to":"n2"},"#,
    r#"{"from":"n5","input":"actions","output":"out","to":"n7"},"#,
    r#"{"from":"n6","input":"source","output":"out","to":"n3"},"#,
    r#"{"from":"n6","input":"source","output":"out","to":"n4"}],"#,
    r#""nodes":["#,
    r#"{"id":"n0","kind":"close","params":{"asset":"BTC"}},"#,
    r#"{"id":"n1","kind":"crosses_above","params":{}},"#,
    r#"{"id":"n2","kind":"crosses_below","params":{}},"#,
    r#"{"id":"n3","kind":"ema","params":{"period":12}},"#,
    r#"{"id":"n4","kind":"ema","params":{"period":26}},"#,
    r#"{"id":"n5","kind":"open_long","params":{"asset":"BTC","size":{"percent_equity":"10"}}},"#,
    r#"{"id":"n6","kind":"price","params":{"asset":"BTC","field":"close","timeframe":"1h"}},"#,
    r#"{"id":"n7","kind":"stop_loss","params":{"percent":"5"}}],"#,
    r#""version":1}"#
);

/// SHA3-256 of `DRAFT_CANONICAL`.
const DRAFT_FINGERPRINT: &str = "7b6b509c3ea36e1cf41968cbe9230899477004ba7504c7d40063a4e545904ab6";

#[test]
fn compiles_under_the_most_restrictive_plan() {
    let plan = compile(&default_draft_graph(), &starter()).unwrap();
    assert_eq!(plan.assets(), ["BTC".to_owned()]);
    assert_eq!(plan.traded_assets(), ["BTC".to_owned()]);
    assert_eq!(plan.timeframes(), vec![Timeframe::H1]);
    // EMA(26) needs 26 closes; the crossing needs the previous value too.
    assert_eq!(plan.warmup_bars(), 27);
    assert_eq!(
        plan.requirements()[0].series,
        SeriesKey::Candles(CandleKey::new("BTC", Timeframe::H1))
    );
    assert!(!plan.uses_language_model());
    assert_eq!(plan.risk_rules().len(), 1);
    assert_eq!(
        plan.risk_rules()[0].kind,
        RiskKind::StopLoss {
            percent: Decimal::from(5)
        }
    );
    assert_eq!(plan.risk_rules()[0].actions, vec!["enter_long".to_owned()]);
}

#[test]
fn needs_btc_in_the_universe() {
    let constraints = clones_strategy::Constraints {
        trade_universe: universe(&["ETH"]),
        ..starter()
    };
    let errors = compile(&default_draft_graph(), &constraints).unwrap_err();
    assert!(
        errors
            .iter()
            .all(|error| error.code == ErrorCode::AssetNotInUniverse)
    );
}

#[test]
fn goes_long_on_the_cross_up_and_closes_on_the_cross_down() {
    let mut closes = vec!["100"; 30];
    let plan = compile(&default_draft_graph(), &starter()).unwrap();
    // Flat: both EMAs at 100, nothing happens.
    assert!(evaluate(&plan, &btc_hourly(&closes)).is_idle());
    // A jump to 110: EMA(12) rises faster than EMA(26) → cross up.
    closes.push("110");
    let evaluation = evaluate(&plan, &btc_hourly(&closes));
    assert_eq!(evaluation.actions.len(), 1);
    let action = &evaluation.actions[0];
    assert_eq!(action.node, "enter_long");
    assert_eq!(action.kind, ActionKind::OpenLong);
    assert_eq!(action.asset, "BTC");
    assert_eq!(
        action.size,
        Some(clones_strategy::SizeSpec::PercentEquity(Decimal::from(10)))
    );
    assert_eq!(action.risk.stop_loss_percent, Some(Decimal::from(5)));
    // A drop to 90: EMA(12) 99.76 falls below EMA(26) 99.95 → cross down.
    closes.push("90");
    let evaluation = evaluate(&plan, &btc_hourly(&closes));
    assert_eq!(evaluation.actions.len(), 1);
    assert_eq!(evaluation.actions[0].kind, ActionKind::Close);
    assert_eq!(evaluation.actions[0].size, None);
    // Too little history: nothing, and the shortfall is reported.
    let evaluation = evaluate(&plan, &btc_hourly(&["100", "110"]));
    assert!(evaluation.is_idle());
    assert_eq!(evaluation.shortfalls[0].needed, 27);
}

#[test]
fn canonical_form_and_fingerprint_are_pinned() {
    let graph = default_draft_graph();
    assert_eq!(canonical_json(&graph), DRAFT_CANONICAL);
    assert_eq!(fingerprint_hex(&graph), DRAFT_FINGERPRINT);
    assert_eq!(to_hex(&fingerprint(&graph)), DRAFT_FINGERPRINT);
}

#[test]
fn json_round_trip_keeps_the_graph() {
    let graph = default_draft_graph();
    let text = graph.to_json();
    assert_eq!(clones_strategy::parse(&text).unwrap(), graph);
    let value = serde_json::to_value(&graph).unwrap();
    assert_eq!(value["nodes"][0]["id"], "btc_close");
    let back: clones_strategy::StrategyGraph = serde_json::from_value(value).unwrap();
    assert_eq!(back, graph);
}
