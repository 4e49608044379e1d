//! Validation and compilation: a [`StrategyGraph`] and the caller's [`Constraints`] become a
//! [`CompiledPlan`], or every error found.
//!
//! This module owns the rules a graph must follow (bounds, ids, edges and port types,
//! acyclicity, risk attachments, entitlements). It does not parse JSON and does not evaluate.
//! Which constraints apply to a user is decided by the caller (clone-service), never here.
//!
//! The checks live in [`check`], the construction of the plan from a checked graph in [`build`].

mod build;
mod check;

use std::collections::{BTreeMap, BTreeSet};

use build::build;
use check::Checker;

use crate::error::{CompileError, CompileErrors, ErrorCode};
use crate::limits::{MAX_EDGES, MAX_NODES};
use crate::market::SeriesKey;
use crate::model::{FORMAT_VERSION, StrategyGraph};
use crate::plan::CompiledPlan;
use crate::strength::ModelStrength;

/// What the caller's plan entitles a strategy to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraints {
    /// The assets a strategy may reference (as data or to trade); `None` allows any.
    pub trade_universe: Option<BTreeSet<String>>,
    /// The most distinct assets a strategy may reference.
    pub max_active_assets: u32,
    /// The strongest model an `llm_instruction` node may name.
    pub max_model_strength: ModelStrength,
}

impl Constraints {
    /// No restriction: any asset, any number of them, any model. For operators and tests.
    pub fn unrestricted() -> Self {
        Constraints {
            trade_universe: None,
            max_active_assets: u32::MAX,
            max_model_strength: ModelStrength::Frontier,
        }
    }
}

/// Checks `graph` against the format's rules and `constraints`, and compiles it.
///
/// Returns every error found (see [`ErrorCode`]). Two checks stop early because nothing else
/// can be judged: an unsupported `version` and a graph over the size bounds. The series checks
/// (`series_mismatch`, `warmup_too_long`) run only on acyclic graphs. Never panics.
pub fn compile(
    graph: &StrategyGraph,
    constraints: &Constraints,
) -> Result<CompiledPlan, CompileErrors> {
    if graph.version != FORMAT_VERSION {
        return Err(CompileErrors::single(CompileError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "format version {} is not supported; this release reads version {FORMAT_VERSION}",
                graph.version
            ),
        )));
    }
    if graph.nodes.len() > MAX_NODES || graph.edges.len() > MAX_EDGES {
        return Err(CompileErrors::single(CompileError::new(
            ErrorCode::GraphTooLarge,
            format!(
                "the graph has {} nodes and {} edges; the limits are {MAX_NODES} and {MAX_EDGES}",
                graph.nodes.len(),
                graph.edges.len()
            ),
        )));
    }

    let mut checker = Checker {
        graph,
        errors: Vec::new(),
    };
    let index = checker.index_nodes();
    for node in &graph.nodes {
        checker.check_params(node);
    }
    let wires = checker.resolve_edges(&index);
    let inputs = checker.check_inputs(&wires);
    let order = checker.topological_order(&wires);
    checker.check_risk(&wires);
    checker.check_has_action();
    checker.check_entitlements(constraints);
    let series = order
        .as_ref()
        .map(|order| checker.analyze_series(order, &wires, &inputs));

    if let Some(errors) = CompileErrors::from_vec(checker.errors) {
        return Err(errors);
    }
    match (order, series) {
        (Some(order), Some(series)) => Ok(build(graph, &order, &wires, &inputs, series)),
        _ => Err(CompileErrors::single(CompileError::new(
            ErrorCode::Cycle,
            "the edges form a cycle",
        ))),
    }
}

/// Parses `text` and compiles it: [`crate::parse`] then [`compile`].
pub fn compile_json(text: &str, constraints: &Constraints) -> Result<CompiledPlan, CompileErrors> {
    compile(&crate::parse::parse(text)?, constraints)
}

/// Checks `graph` without keeping the plan: `compile(graph, constraints).map(|_| ())`.
pub fn validate(graph: &StrategyGraph, constraints: &Constraints) -> Result<(), CompileErrors> {
    compile(graph, constraints).map(|_| ())
}

/// An edge whose endpoints and ports resolved and whose types match.
#[derive(Debug, Clone, Copy)]
struct Wire {
    from: usize,
    output: usize,
    to: usize,
    input: usize,
}

/// `inputs[node][port]` lists the wires into that port, in edge order.
type Inputs = Vec<Vec<Vec<usize>>>;

/// Series information of one numeric output.
#[derive(Debug, Clone, Copy)]
struct SlotInfo {
    clock: usize,
    warmup: u32,
}

struct SeriesAnalysis {
    clocks: Vec<SeriesKey>,
    slots: BTreeMap<(usize, usize), SlotInfo>,
    requirements: Vec<u32>,
}
