//! The checks a graph must pass before it is built: bounds, ids, edges and port types,
//! acyclicity, series and warm-up, risk attachments and entitlements.
//!
//! Every problem is collected as a [`CompileError`] naming its node; nothing here builds the plan.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::error::{CompileError, ErrorCode};
use crate::limits::{
    MAX_ASSET_CHARS, MAX_BOLLINGER_MULTIPLIER, MAX_GUIDANCE_CHARS, MAX_MARKET_ID_CHARS,
    MAX_MODEL_ID_CHARS, MAX_NODE_ID_CHARS, MAX_NOTIONAL, MAX_PERCENT_EQUITY, MAX_PERIOD,
    MAX_STOP_LOSS_PERCENT, MAX_TAKE_PROFIT_PERCENT, MAX_WARMUP_BARS,
};
use crate::market::{CandleKey, OutcomeKey, SeriesKey};
use crate::model::{ActionKind, Node, NodeKind, SizeSpec, StrategyGraph};
use crate::strength::{ModelStrength, RULE_MODEL_ID};

use super::{Constraints, Inputs, SeriesAnalysis, SlotInfo, Wire};

pub(super) struct Checker<'a> {
    pub(super) graph: &'a StrategyGraph,
    pub(super) errors: Vec<CompileError>,
}

fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_NODE_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `[A-Z0-9]` then up to 19 of `[A-Z0-9._-]`.
pub(crate) fn valid_asset(asset: &str) -> bool {
    let mut chars = asset.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    first_ok
        && asset.len() <= MAX_ASSET_CHARS
        && chars
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Printable ASCII without spaces, 1 to `max` characters.
fn valid_token(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.chars().all(|c| c.is_ascii_graphic())
}

impl<'a> Checker<'a> {
    fn node_error(&mut self, code: ErrorCode, node: &str, message: String) {
        self.errors.push(CompileError::at_node(code, node, message));
    }

    pub(super) fn index_nodes(&mut self) -> BTreeMap<&'a str, usize> {
        let graph: &'a StrategyGraph = self.graph;
        let mut index = BTreeMap::new();
        for (position, node) in graph.nodes.iter().enumerate() {
            if !valid_node_id(&node.id) {
                self.node_error(
                    ErrorCode::InvalidNodeId,
                    &node.id,
                    format!(
                        "node id `{}` must be 1 to {MAX_NODE_ID_CHARS} characters of A-Z, a-z, 0-9, `_` and `-`",
                        node.id
                    ),
                );
            }
            if index.contains_key(node.id.as_str()) {
                self.node_error(
                    ErrorCode::DuplicateNodeId,
                    &node.id,
                    format!("node id `{}` is used more than once", node.id),
                );
            } else {
                index.insert(node.id.as_str(), position);
            }
        }
        index
    }

    pub(super) fn check_params(&mut self, node: &Node) {
        let id = node.id.as_str();
        let mut problems: Vec<String> = Vec::new();
        let period = |name: &str, value: u32, min: u32, problems: &mut Vec<String>| {
            if value < min || value > MAX_PERIOD {
                problems.push(format!(
                    "`{name}` is {value}; it must be between {min} and {MAX_PERIOD}"
                ));
            }
        };
        match &node.kind {
            NodeKind::Price { asset, .. } => check_asset(asset, &mut problems),
            NodeKind::OutcomePrice { market, outcome } => {
                for (name, value) in [("market", market), ("outcome", outcome)] {
                    if !valid_token(value, MAX_MARKET_ID_CHARS) {
                        problems.push(format!(
                            "`{name}` must be 1 to {MAX_MARKET_ID_CHARS} printable ASCII characters without spaces"
                        ));
                    }
                }
            }
            NodeKind::Sma { period: p }
            | NodeKind::Ema { period: p }
            | NodeKind::Rsi { period: p }
            | NodeKind::Atr { period: p }
            | NodeKind::Returns { period: p } => period("period", *p, 1, &mut problems),
            NodeKind::Volatility { period: p } => period("period", *p, 2, &mut problems),
            NodeKind::Macd { fast, slow, signal } => {
                period("fast", *fast, 1, &mut problems);
                period("slow", *slow, 1, &mut problems);
                period("signal", *signal, 1, &mut problems);
                if fast >= slow {
                    problems.push(format!("`fast` ({fast}) must be less than `slow` ({slow})"));
                }
            }
            NodeKind::Bollinger {
                period: p,
                multiplier,
            } => {
                period("period", *p, 1, &mut problems);
                if *multiplier <= Decimal::ZERO || *multiplier > MAX_BOLLINGER_MULTIPLIER {
                    problems.push(format!(
                        "`multiplier` is {multiplier}; it must be above 0 and at most {MAX_BOLLINGER_MULTIPLIER}"
                    ));
                }
            }
            NodeKind::Compare { .. }
            | NodeKind::CrossesAbove { .. }
            | NodeKind::CrossesBelow { .. }
            | NodeKind::And
            | NodeKind::Or
            | NodeKind::Not => {}
            NodeKind::OpenLong { asset, size } | NodeKind::OpenShort { asset, size } => {
                check_asset(asset, &mut problems);
                check_size(size, false, &mut problems);
            }
            NodeKind::TargetPosition { asset, size } => {
                check_asset(asset, &mut problems);
                check_size(size, true, &mut problems);
            }
            NodeKind::Close { asset } => check_asset(asset, &mut problems),
            NodeKind::StopLoss { percent } => {
                check_percent(*percent, MAX_STOP_LOSS_PERCENT, &mut problems)
            }
            NodeKind::TakeProfit { percent } => {
                check_percent(*percent, MAX_TAKE_PROFIT_PERCENT, &mut problems)
            }
            NodeKind::MaxPosition { size } => check_size(size, false, &mut problems),
            NodeKind::LlmInstruction {
                model,
                guidance,
                allowed_actions,
                assets,
            } => check_llm(model, guidance, allowed_actions, assets, &mut problems),
        }
        for problem in problems {
            self.node_error(
                ErrorCode::InvalidParam,
                id,
                format!("node `{id}` ({}): {problem}", node.kind.name()),
            );
        }
    }

    pub(super) fn resolve_edges(&mut self, index: &BTreeMap<&str, usize>) -> Vec<Wire> {
        let graph: &'a StrategyGraph = self.graph;
        let nodes = &graph.nodes;
        let mut wires = Vec::with_capacity(graph.edges.len());
        let mut seen = BTreeSet::new();
        for (position, edge) in graph.edges.iter().enumerate() {
            let from = index.get(edge.from.as_str()).copied();
            let to = index.get(edge.to.as_str()).copied();
            let anchor = to
                .map(|_| edge.to.as_str())
                .or(from.map(|_| edge.from.as_str()));
            let mut fail = |code, message: String| {
                self.errors
                    .push(CompileError::at_edge(code, position, anchor, message));
            };
            if from.is_none() {
                fail(
                    ErrorCode::DanglingEdge,
                    format!("edge {position} comes from unknown node `{}`", edge.from),
                );
            }
            if to.is_none() {
                fail(
                    ErrorCode::DanglingEdge,
                    format!("edge {position} goes to unknown node `{}`", edge.to),
                );
            }
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            let source = &nodes[from];
            let target = &nodes[to];
            let outputs = source.kind.outputs();
            let output = match &edge.output {
                Some(name) => {
                    let found = outputs.iter().position(|port| port.name == name);
                    if found.is_none() {
                        fail(
                            ErrorCode::UnknownPort,
                            format!(
                                "node `{}` ({}) has no output `{name}`; its outputs: {}",
                                source.id,
                                source.kind.name(),
                                port_list(outputs.iter().map(|port| port.name))
                            ),
                        );
                    }
                    found
                }
                None if outputs.len() == 1 => Some(0),
                None if outputs.is_empty() => {
                    fail(
                        ErrorCode::UnknownPort,
                        format!(
                            "node `{}` ({}) has no outputs",
                            source.id,
                            source.kind.name()
                        ),
                    );
                    None
                }
                None => {
                    fail(
                        ErrorCode::AmbiguousOutput,
                        format!(
                            "node `{}` ({}) has several outputs; edge {position} must name one of: {}",
                            source.id,
                            source.kind.name(),
                            port_list(outputs.iter().map(|port| port.name))
                        ),
                    );
                    None
                }
            };
            let inputs = target.kind.inputs();
            let input = inputs.iter().position(|port| port.name == edge.input);
            if input.is_none() {
                fail(
                    ErrorCode::UnknownPort,
                    format!(
                        "node `{}` ({}) has no input `{}`; its inputs: {}",
                        target.id,
                        target.kind.name(),
                        edge.input,
                        port_list(inputs.iter().map(|port| port.name))
                    ),
                );
            }
            let (Some(output), Some(input)) = (output, input) else {
                continue;
            };
            let (out_port, in_port) = (outputs[output], inputs[input]);
            if out_port.ty != in_port.ty {
                fail(
                    ErrorCode::TypeMismatch,
                    format!(
                        "edge {position}: output `{}` of `{}` is {} but input `{}` of `{}` takes {}",
                        out_port.name, source.id, out_port.ty, in_port.name, target.id, in_port.ty
                    ),
                );
                continue;
            }
            if !seen.insert((from, output, to, input)) {
                fail(
                    ErrorCode::DuplicateEdge,
                    format!(
                        "edge {position} repeats an edge from `{}` to input `{}` of `{}`",
                        source.id, in_port.name, target.id
                    ),
                );
                continue;
            }
            wires.push(Wire {
                from,
                output,
                to,
                input,
            });
        }
        wires
    }

    pub(super) fn check_inputs(&mut self, wires: &[Wire]) -> Inputs {
        let graph: &'a StrategyGraph = self.graph;
        let nodes = &graph.nodes;
        let mut inputs: Inputs = nodes
            .iter()
            .map(|node| vec![Vec::new(); node.kind.inputs().len()])
            .collect();
        for (position, wire) in wires.iter().enumerate() {
            inputs[wire.to][wire.input].push(position);
        }
        for (position, node) in nodes.iter().enumerate() {
            for (port, spec) in node.kind.inputs().iter().enumerate() {
                let count = inputs[position][port].len();
                if count < spec.min_edges {
                    let needed = if spec.min_edges == 1 {
                        "an edge".to_owned()
                    } else {
                        format!("at least {} edges", spec.min_edges)
                    };
                    self.node_error(
                        ErrorCode::MissingInput,
                        &node.id,
                        format!(
                            "input `{}` of node `{}` ({}) needs {needed} ({} type)",
                            spec.name,
                            node.id,
                            node.kind.name(),
                            spec.ty
                        ),
                    );
                }
                if count > spec.max_edges {
                    self.node_error(
                        ErrorCode::TooManyInputs,
                        &node.id,
                        format!(
                            "input `{}` of node `{}` ({}) accepts at most {} edge{}, it has {count}",
                            spec.name,
                            node.id,
                            node.kind.name(),
                            spec.max_edges,
                            if spec.max_edges == 1 { "" } else { "s" }
                        ),
                    );
                }
            }
            let threshold = match &node.kind {
                NodeKind::Compare { threshold, .. }
                | NodeKind::CrossesAbove { threshold }
                | NodeKind::CrossesBelow { threshold } => threshold,
                _ => continue,
            };
            let right_connected = !inputs[position][1].is_empty();
            match (right_connected, threshold.is_some()) {
                (true, true) => self.node_error(
                    ErrorCode::InvalidParam,
                    &node.id,
                    format!(
                        "node `{}` ({}) has both a `threshold` and a `right` input; keep one",
                        node.id,
                        node.kind.name()
                    ),
                ),
                (false, false) => self.node_error(
                    ErrorCode::MissingInput,
                    &node.id,
                    format!(
                        "node `{}` ({}) needs a `right` input or a `threshold` parameter",
                        node.id,
                        node.kind.name()
                    ),
                ),
                _ => {}
            }
        }
        inputs
    }

    /// Kahn's algorithm, smallest document position first. `None` (with a `cycle` error) when
    /// the wires form a cycle.
    pub(super) fn topological_order(&mut self, wires: &[Wire]) -> Option<Vec<usize>> {
        let count = self.graph.nodes.len();
        let mut indegree = vec![0_usize; count];
        let mut successors = vec![Vec::new(); count];
        for wire in wires {
            indegree[wire.to] += 1;
            successors[wire.from].push(wire.to);
        }
        let mut ready: BTreeSet<usize> = (0..count).filter(|&n| indegree[n] == 0).collect();
        let mut order = Vec::with_capacity(count);
        while let Some(node) = ready.pop_first() {
            order.push(node);
            for &next in &successors[node] {
                indegree[next] -= 1;
                if indegree[next] == 0 {
                    ready.insert(next);
                }
            }
        }
        if order.len() == count {
            return Some(order);
        }
        // Nodes left over are on a cycle or downstream of one; peel off those with no
        // successor among the leftovers until only cycle members (and nodes between cycles)
        // remain.
        let mut left: BTreeSet<usize> = (0..count).filter(|&n| indegree[n] > 0).collect();
        loop {
            let sinks: Vec<usize> = left
                .iter()
                .copied()
                .filter(|&n| !successors[n].iter().any(|s| left.contains(s)))
                .collect();
            if sinks.is_empty() {
                break;
            }
            for sink in sinks {
                left.remove(&sink);
            }
        }
        let names: Vec<&str> = left
            .iter()
            .map(|&n| self.graph.nodes[n].id.as_str())
            .collect();
        let first = names.first().copied().unwrap_or_default().to_owned();
        let listed = if names.len() > 20 {
            format!("{}, …", names[..20].join(", "))
        } else {
            names.join(", ")
        };
        self.node_error(
            ErrorCode::Cycle,
            &first,
            format!("the edges form a cycle through nodes {listed}"),
        );
        None
    }

    pub(super) fn check_risk(&mut self, wires: &[Wire]) {
        let graph: &'a StrategyGraph = self.graph;
        let nodes = &graph.nodes;
        let mut attached: BTreeMap<(usize, &'static str), usize> = BTreeMap::new();
        for wire in wires {
            let (action, risk) = (&nodes[wire.from], &nodes[wire.to]);
            if !risk.kind.is_risk() {
                continue;
            }
            if matches!(action.kind, NodeKind::Close { .. }) {
                self.node_error(
                    ErrorCode::InvalidRiskTarget,
                    &risk.id,
                    format!(
                        "risk node `{}` ({}) is attached to `{}`, a close action, which opens nothing",
                        risk.id,
                        risk.kind.name(),
                        action.id
                    ),
                );
            }
            let count = attached.entry((wire.from, risk.kind.name())).or_insert(0);
            *count += 1;
            if *count == 2 {
                self.node_error(
                    ErrorCode::DuplicateRiskRule,
                    &action.id,
                    format!(
                        "action `{}` has more than one {} rule",
                        action.id,
                        risk.kind.name()
                    ),
                );
            }
        }
    }

    pub(super) fn check_has_action(&mut self) {
        if !self.graph.nodes.iter().any(|node| node.kind.is_action()) {
            self.errors.push(CompileError::new(
                ErrorCode::NoAction,
                "the strategy has no action node (open_long, open_short, close, target_position or llm_instruction), so it can never act",
            ));
        }
    }

    pub(super) fn check_entitlements(&mut self, constraints: &Constraints) {
        let graph: &'a StrategyGraph = self.graph;
        let mut assets: BTreeSet<&str> = BTreeSet::new();
        for node in &graph.nodes {
            for asset in node_assets(&node.kind) {
                if !valid_asset(asset) {
                    continue;
                }
                assets.insert(asset);
                if let Some(universe) = &constraints.trade_universe
                    && !universe.contains(asset)
                {
                    self.node_error(
                        ErrorCode::AssetNotInUniverse,
                        &node.id,
                        format!(
                            "node `{}` uses asset `{asset}`, which is not in the trade universe",
                            node.id
                        ),
                    );
                }
            }
            if let NodeKind::LlmInstruction { model, .. } = &node.kind {
                let strength = ModelStrength::of_model(model);
                if strength > constraints.max_model_strength {
                    self.node_error(
                        ErrorCode::ModelNotAllowed,
                        &node.id,
                        format!(
                            "node `{}` uses model `{model}` ({strength} tier); the plan allows up to {}",
                            node.id, constraints.max_model_strength
                        ),
                    );
                }
            }
        }
        let allowed = usize::try_from(constraints.max_active_assets).unwrap_or(usize::MAX);
        if assets.len() > allowed {
            self.errors.push(CompileError::new(
                ErrorCode::TooManyAssets,
                format!(
                    "the strategy uses {} assets ({}); the plan allows {allowed}",
                    assets.len(),
                    assets.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }

    /// Which series each numeric output is measured on, and how many items it needs.
    pub(super) fn analyze_series(
        &mut self,
        order: &[usize],
        wires: &[Wire],
        inputs: &Inputs,
    ) -> SeriesAnalysis {
        let graph: &'a StrategyGraph = self.graph;
        let nodes = &graph.nodes;
        let clocks: Vec<SeriesKey> = nodes
            .iter()
            .filter_map(|node| source_key(&node.kind))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut slots: BTreeMap<(usize, usize), SlotInfo> = BTreeMap::new();
        let mut requirements = vec![0_u32; clocks.len()];
        // The source slot feeding input `port` of `node` (first wire).
        let source = |slots: &BTreeMap<(usize, usize), SlotInfo>, node: usize, port: usize| {
            let wire = inputs[node].get(port)?.first().map(|&w| wires[w])?;
            slots.get(&(wire.from, wire.output)).copied()
        };
        for &position in order {
            let node = &nodes[position];
            let own = |period: &u32| period.saturating_sub(1);
            let computed: Option<Vec<SlotInfo>> = match &node.kind {
                NodeKind::Price { .. } | NodeKind::OutcomePrice { .. } => source_key(&node.kind)
                    .and_then(|key| clocks.binary_search(&key).ok())
                    .map(|clock| vec![SlotInfo { clock, warmup: 1 }]),
                NodeKind::Sma { period }
                | NodeKind::Ema { period }
                | NodeKind::Bollinger { period, .. } => source(&slots, position, 0).map(|input| {
                    let info = SlotInfo {
                        clock: input.clock,
                        warmup: input.warmup.saturating_add(own(period)),
                    };
                    vec![info; node.kind.outputs().len()]
                }),
                NodeKind::Rsi { period }
                | NodeKind::Returns { period }
                | NodeKind::Volatility { period } => source(&slots, position, 0).map(|input| {
                    vec![SlotInfo {
                        clock: input.clock,
                        warmup: input.warmup.saturating_add(*period),
                    }]
                }),
                NodeKind::Macd { slow, signal, .. } => source(&slots, position, 0).map(|input| {
                    let line = input.warmup.saturating_add(own(slow));
                    let signal = line.saturating_add(own(signal));
                    let at = |warmup| SlotInfo {
                        clock: input.clock,
                        warmup,
                    };
                    vec![at(line), at(signal), at(signal)]
                }),
                NodeKind::Atr { period } => {
                    let sources: Option<Vec<SlotInfo>> =
                        (0..3).map(|port| source(&slots, position, port)).collect();
                    sources.and_then(|sources| {
                        let clock = sources[0].clock;
                        if sources.iter().any(|info| info.clock != clock) {
                            self.errors.push(CompileError::at_node(
                                ErrorCode::SeriesMismatch,
                                &node.id,
                                format!(
                                    "the `high`, `low` and `close` inputs of `{}` (atr) must come from the same asset and timeframe",
                                    node.id
                                ),
                            ));
                            return None;
                        }
                        let warmup = sources.iter().map(|info| info.warmup).max().unwrap_or(1);
                        Some(vec![SlotInfo {
                            clock,
                            warmup: warmup.saturating_add(*period),
                        }])
                    })
                }
                NodeKind::CrossesAbove { .. } | NodeKind::CrossesBelow { .. } => {
                    for port in 0..2 {
                        if let Some(input) = source(&slots, position, port) {
                            let needed = input.warmup.saturating_add(1);
                            if needed > MAX_WARMUP_BARS && input.warmup <= MAX_WARMUP_BARS {
                                self.warmup_error(node, needed);
                            }
                            requirements[input.clock] = requirements[input.clock].max(needed);
                        }
                    }
                    None
                }
                _ => None,
            };
            let Some(outputs) = computed else {
                continue;
            };
            let inherited_ok = (0..node.kind.inputs().len())
                .filter_map(|port| source(&slots, position, port))
                .all(|input| input.warmup <= MAX_WARMUP_BARS);
            if let Some(worst) = outputs.iter().map(|info| info.warmup).max()
                && worst > MAX_WARMUP_BARS
                && inherited_ok
            {
                self.warmup_error(node, worst);
            }
            for (port, info) in outputs.into_iter().enumerate() {
                requirements[info.clock] = requirements[info.clock].max(info.warmup);
                slots.insert((position, port), info);
            }
        }
        SeriesAnalysis {
            clocks,
            slots,
            requirements,
        }
    }

    fn warmup_error(&mut self, node: &Node, needed: u32) {
        self.errors.push(CompileError::at_node(
            ErrorCode::WarmupTooLong,
            &node.id,
            format!(
                "node `{}` ({}) needs {needed} candles of history; the limit is {MAX_WARMUP_BARS}",
                node.id,
                node.kind.name()
            ),
        ));
    }
}

fn port_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn check_asset(asset: &str, problems: &mut Vec<String>) {
    if !valid_asset(asset) {
        problems.push(format!(
            "asset `{asset}` must be 1 to {MAX_ASSET_CHARS} characters: upper-case letters and digits, then also `.`, `_` or `-`"
        ));
    }
}

fn check_size(size: &SizeSpec, signed: bool, problems: &mut Vec<String>) {
    let (amount, max, unit) = match size {
        SizeSpec::PercentEquity(amount) => (*amount, MAX_PERCENT_EQUITY, "percent_equity"),
        SizeSpec::Notional(amount) => (*amount, MAX_NOTIONAL, "notional"),
    };
    if signed {
        if amount.abs() > max {
            problems.push(format!(
                "`size.{unit}` is {amount}; its absolute value must be at most {max}"
            ));
        }
    } else if amount <= Decimal::ZERO || amount > max {
        problems.push(format!(
            "`size.{unit}` is {amount}; it must be above 0 and at most {max}"
        ));
    }
}

fn check_percent(percent: Decimal, max: Decimal, problems: &mut Vec<String>) {
    if percent <= Decimal::ZERO || percent > max {
        problems.push(format!(
            "`percent` is {percent}; it must be above 0 and at most {max}"
        ));
    }
}

/// The most assets one `llm_instruction` may list.
pub(crate) const MAX_LLM_ASSETS: usize = 20;

fn check_llm(
    model: &str,
    guidance: &str,
    allowed_actions: &[ActionKind],
    assets: &[String],
    problems: &mut Vec<String>,
) {
    if !valid_token(model, MAX_MODEL_ID_CHARS) {
        problems.push(format!(
            "`model` must be 1 to {MAX_MODEL_ID_CHARS} printable ASCII characters without spaces"
        ));
    } else if model == RULE_MODEL_ID {
        problems.push(format!(
            "`model` cannot be `{RULE_MODEL_ID}`: the rule model does not read guidance; use a language model"
        ));
    }
    let length = guidance.chars().count();
    if guidance.trim().is_empty() || length > MAX_GUIDANCE_CHARS {
        problems.push(format!(
            "`guidance` is {length} characters; it must be non-blank and at most {MAX_GUIDANCE_CHARS}"
        ));
    }
    let distinct: BTreeSet<&ActionKind> = allowed_actions.iter().collect();
    if allowed_actions.is_empty() || distinct.len() != allowed_actions.len() {
        problems.push("`allowed_actions` must list at least one action, each once".to_owned());
    }
    let distinct: BTreeSet<&String> = assets.iter().collect();
    if assets.is_empty() || distinct.len() != assets.len() || assets.len() > MAX_LLM_ASSETS {
        problems.push(format!(
            "`assets` must list 1 to {MAX_LLM_ASSETS} assets, each once"
        ));
    }
    for asset in assets {
        check_asset(asset, problems);
    }
}

/// The assets a node references.
pub(super) fn node_assets(kind: &NodeKind) -> Vec<&str> {
    match kind {
        NodeKind::Price { asset, .. }
        | NodeKind::OpenLong { asset, .. }
        | NodeKind::OpenShort { asset, .. }
        | NodeKind::Close { asset }
        | NodeKind::TargetPosition { asset, .. } => vec![asset.as_str()],
        NodeKind::LlmInstruction { assets, .. } => assets.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

fn source_key(kind: &NodeKind) -> Option<SeriesKey> {
    match kind {
        NodeKind::Price {
            asset, timeframe, ..
        } => Some(SeriesKey::Candles(CandleKey::new(asset, *timeframe))),
        NodeKind::OutcomePrice { market, outcome } => {
            Some(SeriesKey::Outcome(OutcomeKey::new(market, outcome)))
        }
        _ => None,
    }
}
