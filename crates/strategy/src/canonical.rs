//! The canonical form of a graph and its content fingerprint.
//!
//! Two documents that describe the same strategy — whatever their JSON key order, node order,
//! edge order, node ids, decimal spelling (`2.50` / `2.5`) or order of `llm_instruction` lists
//! — have the same canonical JSON and so the same fingerprint. Marketplace and backtest use the
//! fingerprint to spot duplicates. The algorithm is specified in `docs/strategy-format.md`
//! ("Canonical form and fingerprint") and must not change: a change would change every stored
//! fingerprint. Pinned test vectors guard it.
//!
//! Node ids are replaced by `n0`, `n1`, … in a canonical order computed from content and
//! structure alone: colour refinement (nodes start coloured by their kind and parameters and
//! are split by the colours of their neighbours until stable), then, if some nodes are still
//! indistinguishable, a search that tries each distinct choice and keeps the smallest output.
//!
//! This module neither validates nor evaluates; it only renames and orders.

use std::collections::BTreeMap;

use sha3::{Digest, Sha3_256};

use crate::json::{self, Json};
use crate::model::StrategyGraph;

/// The most leaves (complete orderings) the tie-breaking search renders for one graph.
///
/// Only graphs with large symmetric structures that refinement cannot split come near it; for
/// those, past this budget, the result is still deterministic for a given document but may
/// differ between differently ordered copies of it.
pub const MAX_CANONICAL_LEAVES: usize = 1_024;

/// The canonical JSON text of `graph`: compact, keys sorted, nodes renamed `n0`, `n1`, … in
/// canonical order, edges sorted, decimals normalized, `llm_instruction` lists sorted.
///
/// Defined for every graph value; for graphs that do not compile it is best effort: edges that
/// name an unknown node are left out, and edges naming a duplicated id attach to the first node
/// with that id.
pub fn canonical_json(graph: &StrategyGraph) -> String {
    Canonizer::new(graph).canonical()
}

/// The SHA3-256 digest of the UTF-8 bytes of [`canonical_json`].
pub fn fingerprint(graph: &StrategyGraph) -> [u8; 32] {
    Sha3_256::digest(canonical_json(graph).as_bytes()).into()
}

/// [`fingerprint`] as 64 lowercase hex digits.
pub fn fingerprint_hex(graph: &StrategyGraph) -> String {
    to_hex(&fingerprint(graph))
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// An edge between node positions with its port names; `output` is `None` when the edge does
/// not name one and the source does not have exactly one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PortEdge {
    from: usize,
    output: Option<String>,
    to: usize,
    input: String,
}

/// A neighbour as one node sees it: direction (0 = the edge comes in, 1 = it goes out), this
/// node's port, the neighbour's port (port ids are ranks of the port names; 0 = no name) and
/// the neighbour's position.
type Link = (u8, usize, usize, usize);

struct Canonizer {
    version: u32,
    /// Each node's `{"kind": …, "params": …}`, canonical.
    contents: Vec<Json>,
    edges: Vec<PortEdge>,
    /// Each node's links, sorted.
    links: Vec<Vec<Link>>,
    /// Colours from content alone (ranks of the contents' canonical JSON).
    initial: Vec<usize>,
}

/// Dense ranks (0, 1, …) of `keys` in ascending order; equal keys get equal ranks.
fn ranks<K: Ord + Clone>(keys: &[K]) -> Vec<usize> {
    let mut sorted: Vec<K> = keys.to_vec();
    sorted.sort();
    sorted.dedup();
    keys.iter()
        .map(|key| sorted.binary_search(key).unwrap_or(0))
        .collect()
}

fn colour_count(colours: &[usize]) -> usize {
    colours.iter().max().map_or(0, |max| max + 1)
}

fn write_sorted(value: &Json) -> String {
    let mut text = String::new();
    value.write(&mut text, true);
    text
}

impl Canonizer {
    fn new(graph: &StrategyGraph) -> Canonizer {
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        for (position, node) in graph.nodes.iter().enumerate() {
            first.entry(node.id.as_str()).or_insert(position);
        }
        let contents: Vec<Json> = graph
            .nodes
            .iter()
            .map(|node| {
                Json::Obj(vec![
                    ("kind", Json::str(node.kind.name())),
                    ("params", json::params(&node.kind, true)),
                ])
            })
            .collect();
        let edges: Vec<PortEdge> = graph
            .edges
            .iter()
            .filter_map(|edge| {
                let from = *first.get(edge.from.as_str())?;
                let to = *first.get(edge.to.as_str())?;
                let outputs = graph.nodes[from].kind.outputs();
                let output = match (&edge.output, outputs) {
                    (Some(name), _) => Some(name.clone()),
                    (None, [only]) => Some(only.name.to_owned()),
                    (None, _) => None,
                };
                Some(PortEdge {
                    from,
                    output,
                    to,
                    input: edge.input.clone(),
                })
            })
            .collect();

        // Port ids: 0 for "no name", then ranks of the names in byte order.
        let mut names: Vec<&str> = edges
            .iter()
            .flat_map(|edge| {
                edge.output
                    .as_deref()
                    .into_iter()
                    .chain([edge.input.as_str()])
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        let port_id = |name: Option<&str>| {
            name.and_then(|name| names.binary_search(&name).ok())
                .map_or(0, |rank| rank + 1)
        };
        let mut links: Vec<Vec<Link>> = vec![Vec::new(); contents.len()];
        for edge in &edges {
            let output = port_id(edge.output.as_deref());
            let input = port_id(Some(edge.input.as_str()));
            links[edge.from].push((1, output, input, edge.to));
            links[edge.to].push((0, input, output, edge.from));
        }
        for list in &mut links {
            list.sort_unstable();
        }

        let content_text: Vec<String> = contents.iter().map(write_sorted).collect();
        let initial = ranks(&content_text);
        Canonizer {
            version: graph.version,
            contents,
            edges,
            links,
            initial,
        }
    }

    /// Splits colour classes by the multiset of (direction, ports, neighbour colour) until no
    /// class splits any more. Colours stay dense ranks and keep their relative order.
    fn refine(&self, colours: &mut Vec<usize>) {
        loop {
            let signatures: Vec<(usize, Vec<Link>)> = colours
                .iter()
                .enumerate()
                .map(|(node, &colour)| {
                    let mut around: Vec<Link> = self.links[node]
                        .iter()
                        .map(|&(direction, own, other, neighbour)| {
                            (direction, own, other, colours[neighbour])
                        })
                        .collect();
                    around.sort_unstable();
                    (colour, around)
                })
                .collect();
            let refined = ranks(&signatures);
            let done = colour_count(&refined) == colour_count(colours);
            *colours = refined;
            if done {
                return;
            }
        }
    }

    /// Gives `chosen` a colour of its own just below the rest of its class, then refines.
    fn individualize(&self, colours: &[usize], chosen: usize) -> Vec<usize> {
        let keys: Vec<(usize, bool)> = colours
            .iter()
            .enumerate()
            .map(|(node, &colour)| (colour, node != chosen))
            .collect();
        let mut split = ranks(&keys);
        self.refine(&mut split);
        split
    }

    /// The members of the first (lowest-coloured) class with more than one node, keeping one
    /// node per group of twins (nodes with identical content and identical neighbours, which
    /// any automorphism may swap), in position order. Empty when every node is distinct.
    fn branch_choices(&self, colours: &[usize]) -> Vec<usize> {
        let mut sizes = vec![0_usize; colour_count(colours)];
        for &colour in colours {
            sizes[colour] += 1;
        }
        let Some(target) = sizes.iter().position(|&size| size > 1) else {
            return Vec::new();
        };
        let mut choices: Vec<usize> = Vec::new();
        for node in (0..colours.len()).filter(|&node| colours[node] == target) {
            if !choices
                .iter()
                .any(|&kept| self.links[kept] == self.links[node])
            {
                choices.push(node);
            }
        }
        choices
    }

    /// Renders the document for a discrete colouring (every node its own colour).
    fn render(&self, colours: &[usize]) -> String {
        let mut order: Vec<usize> = (0..colours.len()).collect();
        order.sort_by_key(|&node| colours[node]);
        let id = |node: usize| Json::Str(format!("n{}", colours[node]));
        let nodes: Vec<Json> = order
            .iter()
            .map(|&node| {
                let mut entries = vec![("id", id(node))];
                if let Json::Obj(content) = &self.contents[node] {
                    entries.extend(content.iter().cloned());
                }
                Json::Obj(entries)
            })
            .collect();
        let mut edges: Vec<(usize, &Option<String>, usize, &String)> = self
            .edges
            .iter()
            .map(|edge| {
                (
                    colours[edge.from],
                    &edge.output,
                    colours[edge.to],
                    &edge.input,
                )
            })
            .collect();
        edges.sort();
        let edges: Vec<Json> = edges
            .into_iter()
            .map(|(from, output, to, input)| {
                let mut entries = vec![("from", Json::Str(format!("n{from}")))];
                if let Some(output) = output {
                    entries.push(("output", Json::str(output)));
                }
                entries.push(("to", Json::Str(format!("n{to}"))));
                entries.push(("input", Json::str(input)));
                Json::Obj(entries)
            })
            .collect();
        write_sorted(&Json::Obj(vec![
            ("version", Json::UInt(u64::from(self.version))),
            ("nodes", Json::Arr(nodes)),
            ("edges", Json::Arr(edges)),
        ]))
    }

    /// The leaf reached by always taking the first choice.
    fn first_leaf(&self, mut colours: Vec<usize>, budget: &mut usize) -> String {
        while let Some(&chosen) = self.branch_choices(&colours).first() {
            colours = self.individualize(&colours, chosen);
        }
        *budget = budget.saturating_sub(1);
        self.render(&colours)
    }

    /// Explores every essentially different choice below `colours`, keeping the smallest leaf
    /// in `best`. A choice whose first leaf equals the first leaf of a choice already explored
    /// is skipped: equal leaves prove an automorphism maps one choice onto the other, so their
    /// subtrees hold the same leaves.
    fn explore(&self, colours: Vec<usize>, best: &mut Option<String>, budget: &mut usize) {
        let choices = self.branch_choices(&colours);
        if choices.is_empty() {
            let leaf = self.render(&colours);
            *budget = budget.saturating_sub(1);
            keep_smallest(best, leaf);
            return;
        }
        let mut explored: Vec<String> = Vec::new();
        for (index, &chosen) in choices.iter().enumerate() {
            if index > 0 && *budget == 0 {
                break;
            }
            let child = self.individualize(&colours, chosen);
            let leaf = self.first_leaf(child.clone(), budget);
            if explored.contains(&leaf) {
                continue;
            }
            keep_smallest(best, leaf.clone());
            explored.push(leaf);
            self.explore(child, best, budget);
        }
    }

    fn canonical(&self) -> String {
        let mut colours = self.initial.clone();
        self.refine(&mut colours);
        let mut best = None;
        let mut budget = MAX_CANONICAL_LEAVES;
        self.explore(colours, &mut best, &mut budget);
        best.unwrap_or_else(|| self.render(&[]))
    }
}

fn keep_smallest(best: &mut Option<String>, leaf: String) {
    if best.as_ref().is_none_or(|current| leaf < *current) {
        *best = Some(leaf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clones_market::Timeframe;

    use crate::model::{Edge, Node, NodeKind, PriceField};
    use rust_decimal::Decimal;

    fn price(id: &str) -> Node {
        Node {
            id: id.to_owned(),
            kind: NodeKind::Price {
                asset: "BTC".to_owned(),
                timeframe: Timeframe::H1,
                field: PriceField::Close,
            },
        }
    }

    fn sma(id: &str, period: u32) -> Node {
        Node {
            id: id.to_owned(),
            kind: NodeKind::Sma { period },
        }
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }

    #[test]
    fn empty_graph_has_a_canonical_form() {
        let graph = StrategyGraph {
            version: 1,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        assert_eq!(
            canonical_json(&graph),
            r#"{"edges":[],"nodes":[],"version":1}"#
        );
    }

    #[test]
    fn ids_and_order_do_not_matter() {
        let a = StrategyGraph {
            version: 1,
            nodes: vec![price("p"), sma("slow", 30), sma("fast", 10)],
            edges: vec![
                Edge::new("p", "fast", "source"),
                Edge::new("p", "slow", "source"),
            ],
        };
        let b = StrategyGraph {
            version: 1,
            nodes: vec![sma("x", 10), sma("y", 30), price("z")],
            edges: vec![
                Edge::from_port("z", "out", "y", "source"),
                Edge::new("z", "x", "source"),
            ],
        };
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            canonical_json(&a),
            concat!(
                r#"{"edges":[{"from":"n0","input":"source","output":"out","to":"n1"},"#,
                r#"{"from":"n0","input":"source","output":"out","to":"n2"}],"#,
                r#""nodes":[{"id":"n0","kind":"price","params":{"asset":"BTC","field":"close","timeframe":"1h"}},"#,
                r#"{"id":"n1","kind":"sma","params":{"period":10}},"#,
                r#"{"id":"n2","kind":"sma","params":{"period":30}}],"version":1}"#
            )
        );
    }

    #[test]
    fn decimal_spelling_does_not_matter() {
        let node = |percent| Node {
            id: "s".to_owned(),
            kind: NodeKind::StopLoss { percent },
        };
        let a = StrategyGraph {
            version: 1,
            nodes: vec![node(Decimal::new(250, 2))],
            edges: Vec::new(),
        };
        let b = StrategyGraph {
            version: 1,
            nodes: vec![node(Decimal::new(25, 1))],
            edges: Vec::new(),
        };
        assert_eq!(fingerprint_hex(&a), fingerprint_hex(&b));
    }

    #[test]
    fn different_structures_differ() {
        // Same nodes; which sma feeds which is the only difference.
        let node = |id: &str, kind: NodeKind| Node {
            id: id.to_owned(),
            kind,
        };
        let gt = |id: &str| {
            node(
                id,
                NodeKind::Compare {
                    op: crate::model::CompareOp::Gt,
                    threshold: None,
                },
            )
        };
        let base = vec![price("p"), sma("a", 10), sma("b", 30), gt("c")];
        let edges = |left: &str, right: &str| {
            vec![
                Edge::new("p", "a", "source"),
                Edge::new("p", "b", "source"),
                Edge::new(left, "c", "left"),
                Edge::new(right, "c", "right"),
            ]
        };
        let a = StrategyGraph {
            version: 1,
            nodes: base.clone(),
            edges: edges("a", "b"),
        };
        let b = StrategyGraph {
            version: 1,
            nodes: base,
            edges: edges("b", "a"),
        };
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn symmetric_duplicates_are_handled_without_blowing_up() {
        // Eight identical price -> sma chains: refinement cannot tell them apart, and neither
        // the price nodes nor the sma nodes are twins (their neighbours differ).
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for i in 0..8 {
            nodes.push(price(&format!("p{i}")));
            nodes.push(sma(&format!("s{i}"), 5));
            edges.push(Edge::new(&format!("p{i}"), &format!("s{i}"), "source"));
        }
        let a = StrategyGraph {
            version: 1,
            nodes: nodes.clone(),
            edges: edges.clone(),
        };
        nodes.reverse();
        edges.reverse();
        let b = StrategyGraph {
            version: 1,
            nodes,
            edges,
        };
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn a_wl_hard_pair_is_told_apart_from_its_twin_structure() {
        // Six identical prices feeding six compares: one 6-cycle versus two 3-cycles (each
        // price is `left` of one compare and `right` of the next). Refinement alone sees no
        // difference; the search does.
        let cycle = |groups: &[&[usize]]| {
            let mut nodes = Vec::new();
            let mut edges = Vec::new();
            for group in groups {
                for (k, &i) in group.iter().enumerate() {
                    let next = group[(k + 1) % group.len()];
                    nodes.push(price(&format!("p{i}")));
                    nodes.push(Node {
                        id: format!("c{i}"),
                        kind: NodeKind::Compare {
                            op: crate::model::CompareOp::Gt,
                            threshold: None,
                        },
                    });
                    edges.push(Edge::new(&format!("p{i}"), &format!("c{i}"), "left"));
                    edges.push(Edge::new(&format!("p{next}"), &format!("c{i}"), "right"));
                }
            }
            StrategyGraph {
                version: 1,
                nodes,
                edges,
            }
        };
        let six = cycle(&[&[0, 1, 2, 3, 4, 5]]);
        let six_shuffled = cycle(&[&[3, 1, 5, 0, 2, 4]]);
        let two_threes = cycle(&[&[0, 1, 2], &[3, 4, 5]]);
        assert_eq!(canonical_json(&six), canonical_json(&six_shuffled));
        assert_ne!(canonical_json(&six), canonical_json(&two_threes));
    }
}
