//! The graph a new clone starts with.
//!
//! It must stay valid under the most restrictive plan (one asset, the rule model only, any
//! universe containing `BTC`), because every new clone gets it before its owner edits
//! anything. Its fingerprint is pinned by a test: changing the draft is a deliberate act.

use clones_market::Timeframe;
use rust_decimal::Decimal;

use crate::model::{Edge, FORMAT_VERSION, Node, NodeKind, PriceField, SizeSpec, StrategyGraph};

/// A simple valid strategy: on BTC 1h closes, go long with 10 % of equity when EMA(12) crosses
/// above EMA(26), close when it crosses back below, with a 5 % stop loss on the entry.
pub fn default_draft_graph() -> StrategyGraph {
    let node = |id: &str, kind: NodeKind| Node {
        id: id.to_owned(),
        kind,
    };
    StrategyGraph {
        version: FORMAT_VERSION,
        nodes: vec![
            node(
                "btc_close",
                NodeKind::Price {
                    asset: "BTC".to_owned(),
                    timeframe: Timeframe::H1,
                    field: PriceField::Close,
                },
            ),
            node("ema_fast", NodeKind::Ema { period: 12 }),
            node("ema_slow", NodeKind::Ema { period: 26 }),
            node("cross_up", NodeKind::CrossesAbove { threshold: None }),
            node("cross_down", NodeKind::CrossesBelow { threshold: None }),
            node(
                "enter_long",
                NodeKind::OpenLong {
                    asset: "BTC".to_owned(),
                    size: SizeSpec::PercentEquity(Decimal::from(10)),
                },
            ),
            node(
                "exit_long",
                NodeKind::Close {
                    asset: "BTC".to_owned(),
                },
            ),
            node(
                "stop",
                NodeKind::StopLoss {
                    percent: Decimal::from(5),
                },
            ),
        ],
        edges: vec![
            Edge::new("btc_close", "ema_fast", "source"),
            Edge::new("btc_close", "ema_slow", "source"),
            Edge::new("ema_fast", "cross_up", "left"),
            Edge::new("ema_slow", "cross_up", "right"),
            Edge::new("ema_fast", "cross_down", "left"),
            Edge::new("ema_slow", "cross_down", "right"),
            Edge::new("cross_up", "enter_long", "when"),
            Edge::new("cross_down", "exit_long", "when"),
            Edge::new("enter_long", "stop", "actions"),
        ],
    }
}
