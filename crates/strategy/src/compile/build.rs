//! Construction of the [`CompiledPlan`] from a graph that passed every check: numeric slots in
//! topological order, logic, actions, LLM instructions, risk rules and data requirements.
//!
//! It assumes the checks held and reports nothing; it never panics on a checked graph.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::model::{ActionKind, NodeKind, PortType, StrategyGraph};
use crate::plan::{
    ActionOp, CompiledPlan, DataRequirement, LlmOp, LogicOp, NumericKind, NumericOp, Operand,
    RiskKind, RiskRule, RiskSettings,
};

use super::check::node_assets;
use super::{Inputs, SeriesAnalysis, Wire};

fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

fn size_of(period: u32) -> usize {
    usize::try_from(period).unwrap_or(usize::MAX)
}

/// Builds the plan of a graph that passed every check.
pub(super) fn build(
    graph: &StrategyGraph,
    order: &[usize],
    wires: &[Wire],
    inputs: &Inputs,
    series: SeriesAnalysis,
) -> CompiledPlan {
    let nodes = &graph.nodes;

    // Numeric slots, in topological order.
    let mut slot_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut slot_clock = Vec::new();
    let mut numeric = Vec::new();
    // Boolean slots, in topological order.
    let mut bool_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut logic = Vec::new();

    let first_wire = |node: usize, port: usize| -> Option<Wire> {
        inputs[node].get(port)?.first().map(|&w| wires[w])
    };
    for &position in order {
        let kind = &nodes[position].kind;
        if kind.outputs().first().map(|port| port.ty) == Some(PortType::Number) {
            let out = slot_clock.len();
            for port in 0..kind.outputs().len() {
                slot_of.insert((position, port), out + port);
                let clock = series
                    .slots
                    .get(&(position, port))
                    .map_or(0, |info| info.clock);
                slot_clock.push(clock);
            }
            let slot = |port: usize| {
                first_wire(position, port)
                    .and_then(|wire| slot_of.get(&(wire.from, wire.output)).copied())
                    .unwrap_or(0)
            };
            let clock = series
                .slots
                .get(&(position, 0))
                .map_or(0, |info| info.clock);
            let numeric_kind = match kind {
                NodeKind::Price { field, .. } => NumericKind::Candles {
                    clock,
                    field: *field,
                },
                NodeKind::OutcomePrice { .. } => NumericKind::Outcome { clock },
                NodeKind::Sma { period } => NumericKind::Sma {
                    input: slot(0),
                    period: size_of(*period),
                },
                NodeKind::Ema { period } => NumericKind::Ema {
                    input: slot(0),
                    period: size_of(*period),
                },
                NodeKind::Rsi { period } => NumericKind::Rsi {
                    input: slot(0),
                    period: size_of(*period),
                },
                NodeKind::Atr { period } => NumericKind::Atr {
                    high: slot(0),
                    low: slot(1),
                    close: slot(2),
                    period: size_of(*period),
                },
                NodeKind::Macd { fast, slow, signal } => NumericKind::Macd {
                    input: slot(0),
                    fast: size_of(*fast),
                    slow: size_of(*slow),
                    signal: size_of(*signal),
                },
                NodeKind::Bollinger { period, multiplier } => NumericKind::Bollinger {
                    input: slot(0),
                    period: size_of(*period),
                    multiplier: to_f64(*multiplier),
                },
                NodeKind::Returns { period } => NumericKind::Returns {
                    input: slot(0),
                    period: size_of(*period),
                },
                NodeKind::Volatility { period } => NumericKind::Volatility {
                    input: slot(0),
                    period: size_of(*period),
                },
                _ => continue,
            };
            numeric.push(NumericOp {
                kind: numeric_kind,
                out,
            });
        } else if kind.outputs().first().map(|port| port.ty) == Some(PortType::Bool) {
            let number = |port: usize| {
                first_wire(position, port)
                    .and_then(|wire| slot_of.get(&(wire.from, wire.output)).copied())
            };
            let booleans = |port: usize| -> Vec<usize> {
                inputs[position]
                    .get(port)
                    .map(|list| {
                        list.iter()
                            .filter_map(|&w| bool_of.get(&wires[w].from).copied())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let right = |threshold: &Option<Decimal>| match (number(1), threshold) {
                (Some(slot), _) => Operand::Slot(slot),
                (None, Some(value)) => Operand::Constant(to_f64(*value)),
                (None, None) => Operand::Constant(f64::NAN),
            };
            let op = match kind {
                NodeKind::Compare { op, threshold } => LogicOp::Compare {
                    op: *op,
                    left: number(0).unwrap_or(0),
                    right: right(threshold),
                },
                NodeKind::CrossesAbove { threshold } => LogicOp::CrossesAbove {
                    left: number(0).unwrap_or(0),
                    right: right(threshold),
                },
                NodeKind::CrossesBelow { threshold } => LogicOp::CrossesBelow {
                    left: number(0).unwrap_or(0),
                    right: right(threshold),
                },
                NodeKind::And => LogicOp::And(booleans(0)),
                NodeKind::Or => LogicOp::Or(booleans(0)),
                NodeKind::Not => LogicOp::Not(booleans(0).first().copied().unwrap_or(0)),
                _ => continue,
            };
            bool_of.insert(position, logic.len());
            logic.push(op);
        }
    }

    // Risk rules and the settings they give each action.
    let mut risk_rules = Vec::new();
    let mut settings: BTreeMap<usize, RiskSettings> = BTreeMap::new();
    for (position, node) in nodes.iter().enumerate() {
        let kind = match &node.kind {
            NodeKind::StopLoss { percent } => RiskKind::StopLoss { percent: *percent },
            NodeKind::TakeProfit { percent } => RiskKind::TakeProfit { percent: *percent },
            NodeKind::MaxPosition { size } => RiskKind::MaxPosition { size: *size },
            _ => continue,
        };
        let mut actions = Vec::new();
        for &w in inputs[position]
            .first()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let action = wires[w].from;
            actions.push(nodes[action].id.clone());
            let entry = settings.entry(action).or_default();
            match kind {
                RiskKind::StopLoss { percent } => entry.stop_loss_percent = Some(percent),
                RiskKind::TakeProfit { percent } => entry.take_profit_percent = Some(percent),
                RiskKind::MaxPosition { size } => entry.max_position = Some(size),
            }
        }
        actions.sort();
        risk_rules.push(RiskRule {
            node: node.id.clone(),
            kind,
            actions,
        });
    }
    risk_rules.sort_by(|a, b| a.node.cmp(&b.node));

    // Actions and model instructions, sorted by node id.
    let mut actions = Vec::new();
    let mut llm = Vec::new();
    let when = |position: usize| -> Option<usize> {
        first_wire(position, 0).and_then(|wire| bool_of.get(&wire.from).copied())
    };
    for (position, node) in nodes.iter().enumerate() {
        let risk = settings.get(&position).copied().unwrap_or_default();
        let (asset, kind, size) = match &node.kind {
            NodeKind::OpenLong { asset, size } => (asset, ActionKind::OpenLong, Some(*size)),
            NodeKind::OpenShort { asset, size } => (asset, ActionKind::OpenShort, Some(*size)),
            NodeKind::Close { asset } => (asset, ActionKind::Close, None),
            NodeKind::TargetPosition { asset, size } => {
                (asset, ActionKind::TargetPosition, Some(*size))
            }
            NodeKind::LlmInstruction {
                model,
                guidance,
                allowed_actions,
                assets,
            } => {
                let mut context: Vec<(String, usize)> = inputs[position]
                    .get(1)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|&w| {
                        let wire = wires[w];
                        let source = &nodes[wire.from];
                        let label = if source.kind.outputs().len() > 1 {
                            format!("{}.{}", source.id, source.kind.outputs()[wire.output].name)
                        } else {
                            source.id.clone()
                        };
                        slot_of
                            .get(&(wire.from, wire.output))
                            .map(|&slot| (label, slot))
                    })
                    .collect();
                context.sort();
                let mut allowed_actions = allowed_actions.clone();
                allowed_actions.sort();
                let mut assets = assets.clone();
                assets.sort();
                llm.push(LlmOp {
                    node: node.id.clone(),
                    model: model.clone(),
                    guidance: guidance.clone(),
                    allowed_actions,
                    assets,
                    when: when(position),
                    context,
                    risk,
                });
                continue;
            }
            _ => continue,
        };
        actions.push(ActionOp {
            node: node.id.clone(),
            asset: asset.clone(),
            kind,
            size,
            when: when(position).unwrap_or(0),
            risk,
        });
    }
    actions.sort_by(|a, b| a.node.cmp(&b.node));
    llm.sort_by(|a, b| a.node.cmp(&b.node));

    let mut assets = BTreeSet::new();
    let mut traded = BTreeSet::new();
    let mut models = BTreeSet::new();
    for node in nodes {
        for asset in node_assets(&node.kind) {
            assets.insert(asset.to_owned());
            if node.kind.is_action() {
                traded.insert(asset.to_owned());
            }
        }
        if let NodeKind::LlmInstruction { model, .. } = &node.kind {
            models.insert(model.clone());
        }
    }

    let requirements = series
        .clocks
        .iter()
        .zip(&series.requirements)
        .map(|(series, warmup)| DataRequirement {
            series: series.clone(),
            warmup_bars: (*warmup).max(1),
        })
        .collect();

    CompiledPlan {
        clocks: series.clocks,
        numeric,
        slot_clock,
        logic,
        actions,
        llm,
        requirements,
        risk_rules,
        assets: assets.into_iter().collect(),
        traded_assets: traded.into_iter().collect(),
        models: models.into_iter().collect(),
    }
}
