//! Mutation operators (pure, deterministic for a seed): each turns a parent graph into a child
//! that still compiles and differs from the parent. The evolution cycle records the operator
//! and its detail in the child's lineage row.
//!
//! | operator | what changes |
//! |---|---|
//! | `parameter_perturbation` | one period (±20 %, at least 1) or a Bollinger multiplier (±0.25) or a stop-loss / take-profit percent (±1), inside the compiler's bounds |
//! | `indicator_swap` | an SMA becomes an EMA of the same period, or the reverse |
//! | `threshold_shift` | a comparison's constant moves by 10 % of itself (at least 0.01) |
//! | `add_condition` | an order's trigger is and-ed with an RSI(14) filter on the strategy's first price series (`< 70` to buy, `> 30` to sell) |
//! | `remove_condition` | one input of an `and` is dropped (an `and` left with one input is replaced by it) |

use clones_strategy::{
    CompareOp, CompiledPlan, Constraints, Edge, Node, NodeKind, StrategyGraph, compile, fingerprint,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Which operator made a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MutationKind {
    /// A numeric parameter moved within bounds.
    ParameterPerturbation,
    /// An SMA swapped for an EMA, or the reverse.
    IndicatorSwap,
    /// A comparison's constant shifted.
    ThresholdShift,
    /// A filter condition added to an order's trigger.
    AddCondition,
    /// A condition removed from an `and`.
    RemoveCondition,
    /// Uploaded by a creator as a derivative of another strategy.
    Fork,
}

impl MutationKind {
    /// The operators the evolution cycle draws from.
    pub const OPERATORS: [MutationKind; 5] = [
        MutationKind::ParameterPerturbation,
        MutationKind::IndicatorSwap,
        MutationKind::ThresholdShift,
        MutationKind::AddCondition,
        MutationKind::RemoveCondition,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MutationKind::ParameterPerturbation => "parameter_perturbation",
            MutationKind::IndicatorSwap => "indicator_swap",
            MutationKind::ThresholdShift => "threshold_shift",
            MutationKind::AddCondition => "add_condition",
            MutationKind::RemoveCondition => "remove_condition",
            MutationKind::Fork => "fork",
        }
    }
}

/// A child graph and how it was made.
#[derive(Debug, Clone)]
pub struct Child {
    /// The child's graph.
    pub graph: StrategyGraph,
    /// The child compiled.
    pub plan: CompiledPlan,
    /// The operator.
    pub kind: MutationKind,
    /// What changed, for a person: e.g. `ema_fast.period 12 -> 14`.
    pub detail: String,
}

/// A child of `parent` for `seed`: operators and targets are drawn from the seed until one
/// gives a graph that compiles under `constraints` and differs from the parent (at most 20
/// draws); `None` when none does.
pub fn mutate(parent: &StrategyGraph, seed: u64, constraints: &Constraints) -> Option<Child> {
    let mut rng = Rng::new(seed);
    let parent_print = fingerprint(parent);
    for _ in 0..20 {
        let kind = MutationKind::OPERATORS[rng.below(MutationKind::OPERATORS.len())];
        let Some((graph, detail)) = apply(parent, kind, &mut rng, seed) else {
            continue;
        };
        if fingerprint(&graph) == parent_print {
            continue;
        }
        if let Ok(plan) = compile(&graph, constraints) {
            return Some(Child {
                graph,
                plan,
                kind,
                detail,
            });
        }
    }
    None
}

/// Up to `count` compiled neighbours of `graph`, each with one parameter perturbed: what the
/// robustness score compares a strategy with.
pub fn neighbours(graph: &StrategyGraph, count: usize, seed: u64) -> Vec<CompiledPlan> {
    let mut rng = Rng::new(seed);
    let constraints = Constraints::unrestricted();
    let mut found = Vec::new();
    for _ in 0..count.saturating_mul(3) {
        if found.len() == count {
            break;
        }
        if let Some((neighbour, _)) = perturb(graph, &mut rng)
            && let Ok(plan) = compile(&neighbour, &constraints)
        {
            found.push(plan);
        }
    }
    found
}

fn apply(
    parent: &StrategyGraph,
    kind: MutationKind,
    rng: &mut Rng,
    seed: u64,
) -> Option<(StrategyGraph, String)> {
    match kind {
        MutationKind::ParameterPerturbation => perturb(parent, rng),
        MutationKind::IndicatorSwap => swap(parent, rng),
        MutationKind::ThresholdShift => shift(parent, rng),
        MutationKind::AddCondition => add_condition(parent, rng, seed),
        MutationKind::RemoveCondition => remove_condition(parent, rng),
        MutationKind::Fork => None,
    }
}

/// The indexes of the nodes `eligible` accepts, one of them drawn.
fn pick(
    graph: &StrategyGraph,
    rng: &mut Rng,
    eligible: impl Fn(&NodeKind) -> bool,
) -> Option<usize> {
    let found: Vec<usize> = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| eligible(&node.kind))
        .map(|(index, _)| index)
        .collect();
    (!found.is_empty()).then(|| found[rng.below(found.len())])
}

fn moved_period(period: u32, rng: &mut Rng, min: u32) -> u32 {
    let step = (period / 5).max(1);
    let next = if rng.below(2) == 0 {
        period.saturating_add(step)
    } else {
        period.saturating_sub(step)
    };
    next.clamp(min, clones_strategy::limits::MAX_PERIOD)
}

fn perturb(parent: &StrategyGraph, rng: &mut Rng) -> Option<(StrategyGraph, String)> {
    let index = pick(parent, rng, |kind| {
        matches!(
            kind,
            NodeKind::Sma { .. }
                | NodeKind::Ema { .. }
                | NodeKind::Rsi { .. }
                | NodeKind::Atr { .. }
                | NodeKind::Returns { .. }
                | NodeKind::Volatility { .. }
                | NodeKind::Macd { .. }
                | NodeKind::Bollinger { .. }
                | NodeKind::StopLoss { .. }
                | NodeKind::TakeProfit { .. }
        )
    })?;
    let mut graph = parent.clone();
    let node = &mut graph.nodes[index];
    let id = node.id.clone();
    let up = rng.below(2) == 0;
    let detail = match &mut node.kind {
        NodeKind::Sma { period }
        | NodeKind::Ema { period }
        | NodeKind::Rsi { period }
        | NodeKind::Atr { period }
        | NodeKind::Returns { period } => {
            let before = *period;
            *period = moved_period(before, rng, 1);
            format!("{id}.period {before} -> {period}")
        }
        NodeKind::Volatility { period } => {
            let before = *period;
            *period = moved_period(before, rng, 2);
            format!("{id}.period {before} -> {period}")
        }
        NodeKind::Macd { fast, slow, signal } => {
            let (name, value) = match rng.below(3) {
                0 => ("fast", fast),
                1 => ("slow", slow),
                _ => ("signal", signal),
            };
            let before = *value;
            *value = moved_period(before, rng, 1);
            format!("{id}.{name} {before} -> {value}")
        }
        NodeKind::Bollinger { multiplier, .. } => {
            let before = *multiplier;
            let step = Decimal::new(25, 2);
            *multiplier = if up { before + step } else { before - step }.clamp(
                Decimal::new(25, 2),
                clones_strategy::limits::MAX_BOLLINGER_MULTIPLIER,
            );
            format!("{id}.multiplier {before} -> {multiplier}")
        }
        NodeKind::StopLoss { percent } | NodeKind::TakeProfit { percent } => {
            let before = *percent;
            *percent = if up {
                before + Decimal::ONE
            } else {
                before - Decimal::ONE
            }
            .clamp(Decimal::new(5, 1), Decimal::from(50));
            format!("{id}.percent {before} -> {percent}")
        }
        _ => return None,
    };
    Some((graph, detail))
}

fn swap(parent: &StrategyGraph, rng: &mut Rng) -> Option<(StrategyGraph, String)> {
    let index = pick(parent, rng, |kind| {
        matches!(kind, NodeKind::Sma { .. } | NodeKind::Ema { .. })
    })?;
    let mut graph = parent.clone();
    let node = &mut graph.nodes[index];
    let (kind, detail) = match node.kind {
        NodeKind::Sma { period } => (NodeKind::Ema { period }, format!("{} sma -> ema", node.id)),
        NodeKind::Ema { period } => (NodeKind::Sma { period }, format!("{} ema -> sma", node.id)),
        _ => return None,
    };
    node.kind = kind;
    Some((graph, detail))
}

fn shift(parent: &StrategyGraph, rng: &mut Rng) -> Option<(StrategyGraph, String)> {
    let index = pick(parent, rng, |kind| {
        matches!(
            kind,
            NodeKind::Compare {
                threshold: Some(_),
                ..
            } | NodeKind::CrossesAbove { threshold: Some(_) }
                | NodeKind::CrossesBelow { threshold: Some(_) }
        )
    })?;
    let up = rng.below(2) == 0;
    let mut graph = parent.clone();
    let node = &mut graph.nodes[index];
    let id = node.id.clone();
    let threshold = match &mut node.kind {
        NodeKind::Compare { threshold, .. }
        | NodeKind::CrossesAbove { threshold }
        | NodeKind::CrossesBelow { threshold } => threshold.as_mut()?,
        _ => return None,
    };
    let before = *threshold;
    let step = (before.abs() / Decimal::TEN).max(Decimal::new(1, 2));
    let after = if up { before + step } else { before - step }.round_dp(4);
    *threshold = after;
    Some((graph, format!("{id}.threshold {before} -> {after}")))
}

/// A node id not used in `graph`, from `base`.
fn fresh_id(graph: &StrategyGraph, base: &str) -> String {
    let mut n = 0_u32;
    loop {
        let id = if n == 0 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        if graph.node(&id).is_none() {
            return id;
        }
        n += 1;
    }
}

fn add_condition(
    parent: &StrategyGraph,
    rng: &mut Rng,
    seed: u64,
) -> Option<(StrategyGraph, String)> {
    let price = parent
        .nodes
        .iter()
        .find(|node| matches!(node.kind, NodeKind::Price { .. }))?
        .id
        .clone();
    let action = pick(parent, rng, |kind| {
        matches!(kind, NodeKind::OpenLong { .. } | NodeKind::OpenShort { .. })
    })?;
    let mut graph = parent.clone();
    let action_id = graph.nodes[action].id.clone();
    let buying = matches!(graph.nodes[action].kind, NodeKind::OpenLong { .. });
    let trigger = graph
        .edges
        .iter()
        .position(|edge| edge.to == action_id && edge.input == "when")?;
    let tag = format!("m{:x}", seed & 0xffff);
    let rsi = fresh_id(&graph, &format!("{tag}_rsi"));
    graph.nodes.push(Node {
        id: rsi.clone(),
        kind: NodeKind::Rsi { period: 14 },
    });
    let filter = fresh_id(&graph, &format!("{tag}_filter"));
    let (op, level) = if buying {
        (CompareOp::Lt, Decimal::from(70))
    } else {
        (CompareOp::Gt, Decimal::from(30))
    };
    graph.nodes.push(Node {
        id: filter.clone(),
        kind: NodeKind::Compare {
            op,
            threshold: Some(level),
        },
    });
    let both = fresh_id(&graph, &format!("{tag}_and"));
    graph.nodes.push(Node {
        id: both.clone(),
        kind: NodeKind::And,
    });
    let old = graph.edges[trigger].clone();
    graph.edges[trigger] = Edge::new(&both, &action_id, "when");
    graph.edges.push(Edge::new(&price, &rsi, "source"));
    graph.edges.push(Edge::new(&rsi, &filter, "left"));
    graph.edges.push(Edge {
        to: both.clone(),
        input: "inputs".into(),
        ..old
    });
    graph.edges.push(Edge::new(&filter, &both, "inputs"));
    let sign = if buying { "<" } else { ">" };
    Some((
        graph,
        format!("{action_id}.when and RSI(14) {sign} {level}"),
    ))
}

fn remove_condition(parent: &StrategyGraph, rng: &mut Rng) -> Option<(StrategyGraph, String)> {
    let index = pick(parent, rng, |kind| matches!(kind, NodeKind::And))?;
    let mut graph = parent.clone();
    let and_id = graph.nodes[index].id.clone();
    let inputs: Vec<usize> = graph
        .edges
        .iter()
        .enumerate()
        .filter(|(_, edge)| edge.to == and_id && edge.input == "inputs")
        .map(|(position, _)| position)
        .collect();
    if inputs.len() < 2 {
        return None;
    }
    let dropped = inputs[rng.below(inputs.len())];
    let removed = graph.edges.remove(dropped);
    if inputs.len() > 2 {
        return Some((graph, format!("{and_id} without {}", removed.from)));
    }
    // One input left: the `and` is replaced by it.
    let kept = graph
        .edges
        .iter()
        .find(|edge| edge.to == and_id && edge.input == "inputs")?
        .clone();
    graph.edges.retain(|edge| edge.to != and_id);
    for edge in &mut graph.edges {
        if edge.from == and_id {
            edge.from = kept.from.clone();
            edge.output = kept.output.clone();
        }
    }
    graph.nodes.retain(|node| node.id != and_id);
    Some((
        graph,
        format!(
            "{and_id} replaced by {} (without {})",
            kept.from, removed.from
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::seed_strategies;

    #[test]
    fn every_seed_strategy_has_valid_distinct_children_for_many_seeds() {
        let constraints = Constraints::unrestricted();
        for seed_strategy in seed_strategies() {
            let parent = seed_strategy.graph;
            let mut kinds = std::collections::BTreeSet::new();
            for seed in 0..200 {
                let child = mutate(&parent, seed, &constraints).unwrap();
                assert_ne!(fingerprint(&child.graph), fingerprint(&parent));
                assert!(compile(&child.graph, &constraints).is_ok());
                kinds.insert(child.kind.as_str());
            }
            // Each shipped strategy has at least a period to perturb and an entry to filter.
            assert!(kinds.len() >= 2, "{}: {kinds:?}", seed_strategy.name);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_child() {
        let parent = seed_strategies().remove(0).graph;
        let constraints = Constraints::unrestricted();
        for seed in 0..50 {
            let (a, b) = (
                mutate(&parent, seed, &constraints).unwrap(),
                mutate(&parent, seed, &constraints).unwrap(),
            );
            assert_eq!(a.graph, b.graph);
            assert_eq!(a.detail, b.detail);
        }
    }
}
