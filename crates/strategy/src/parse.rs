//! JSON text to [`StrategyGraph`], reporting every structural problem at once.
//!
//! This module checks the document's shape: known fields only, the right JSON types, known node
//! kinds, every required parameter present. It does not check parameter bounds, ids, edges or
//! entitlements; [`crate::compile()`] does, so graphs built in code get the same checks.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::{CompileError, CompileErrors, ErrorCode};
use crate::limits::{MAX_DOCUMENT_BYTES, MAX_EDGES, MAX_NODES};
use crate::model::{
    ActionKind, CompareOp, Edge, FORMAT_VERSION, NODE_KINDS, Node, NodeKind, PriceField, SizeSpec,
    StrategyGraph, strategy_timeframe, strategy_timeframes_expected,
};

/// Parses a strategy document from JSON text.
///
/// Returns every problem found: invalid JSON, unknown or missing fields, wrong types, unknown
/// node kinds and missing parameters. A document whose `version` is not
/// [`FORMAT_VERSION`] is rejected with `unsupported_version` alone. Never panics.
pub fn parse(text: &str) -> Result<StrategyGraph, CompileErrors> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(CompileErrors::single(CompileError::new(
            ErrorCode::GraphTooLarge,
            format!(
                "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|error| {
        CompileErrors::single(CompileError::new(
            ErrorCode::InvalidJson,
            format!("the document is not valid JSON: {error}"),
        ))
    })?;
    parse_value(&value)
}

/// Parses a strategy document from an already-parsed JSON value, with the same rules as
/// [`parse`].
pub fn parse_value(value: &Value) -> Result<StrategyGraph, CompileErrors> {
    let mut errors = Vec::new();
    let Some(top) = value.as_object() else {
        return Err(CompileErrors::single(CompileError::new(
            ErrorCode::InvalidJson,
            "the document must be a JSON object with `version`, `nodes` and `edges`",
        )));
    };

    let version = read_version(top)?;

    for key in top.keys() {
        if !matches!(key.as_str(), "version" | "nodes" | "edges") {
            errors.push(CompileError::new(
                ErrorCode::UnknownField,
                format!("unknown top-level field `{key}`; expected `version`, `nodes`, `edges`"),
            ));
        }
    }

    let nodes = read_array(top, "nodes", MAX_NODES, &mut errors)?;
    let edges = read_array(top, "edges", MAX_EDGES, &mut errors)?;

    let mut graph = StrategyGraph {
        version,
        nodes: Vec::with_capacity(nodes.len()),
        edges: Vec::with_capacity(edges.len()),
    };
    for (index, value) in nodes.iter().enumerate() {
        if let Some(node) = parse_node(index, value, &mut errors) {
            graph.nodes.push(node);
        }
    }
    for (index, value) in edges.iter().enumerate() {
        if let Some(edge) = parse_edge(index, value, &mut errors) {
            graph.edges.push(edge);
        }
    }

    match CompileErrors::from_vec(errors) {
        Some(errors) => Err(errors),
        None => Ok(graph),
    }
}

fn read_version(top: &Map<String, Value>) -> Result<u32, CompileErrors> {
    let error =
        |code, message: String| Err(CompileErrors::single(CompileError::new(code, message)));
    match top.get("version") {
        None => error(
            ErrorCode::MissingField,
            "the document has no `version`".to_owned(),
        ),
        Some(Value::Number(number)) => match number.as_u64().map(u32::try_from) {
            Some(Ok(version)) if version == FORMAT_VERSION => Ok(version),
            _ => error(
                ErrorCode::UnsupportedVersion,
                format!(
                    "format version {number} is not supported; this release reads version {FORMAT_VERSION}"
                ),
            ),
        },
        Some(_) => error(
            ErrorCode::InvalidJson,
            "`version` must be an integer".to_owned(),
        ),
    }
}

/// An empty array when the field is missing or mistyped (the error is recorded), or a
/// `graph_too_large` failure that stops parsing.
fn read_array<'a>(
    top: &'a Map<String, Value>,
    key: &str,
    limit: usize,
    errors: &mut Vec<CompileError>,
) -> Result<&'a [Value], CompileErrors> {
    match top.get(key) {
        None => {
            errors.push(CompileError::new(
                ErrorCode::MissingField,
                format!("the document has no `{key}` array"),
            ));
            Ok(&[])
        }
        Some(Value::Array(items)) if items.len() > limit => {
            Err(CompileErrors::single(CompileError::new(
                ErrorCode::GraphTooLarge,
                format!("the graph has {} {key}; the limit is {limit}", items.len()),
            )))
        }
        Some(Value::Array(items)) => Ok(items),
        Some(_) => {
            errors.push(CompileError::new(
                ErrorCode::InvalidJson,
                format!("`{key}` must be an array"),
            ));
            Ok(&[])
        }
    }
}

/// Reads a required or optional string field of a node or edge object.
fn structural_string(
    object: &Map<String, Value>,
    key: &str,
    required: bool,
    place: &str,
    node: Option<&str>,
    edge: Option<usize>,
    errors: &mut Vec<CompileError>,
) -> Option<String> {
    let error = |code, message: String| CompileError {
        code,
        node: node.map(str::to_owned),
        edge,
        message,
    };
    match object.get(key) {
        Some(Value::String(text)) => Some(text.clone()),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            errors.push(error(
                ErrorCode::MissingField,
                format!("{place} has no `{key}`"),
            ));
            None
        }
        Some(_) => {
            errors.push(error(
                ErrorCode::InvalidJson,
                format!("`{key}` of {place} must be a string"),
            ));
            None
        }
    }
}

fn parse_node(index: usize, value: &Value, errors: &mut Vec<CompileError>) -> Option<Node> {
    let place = format!("nodes[{index}]");
    let Some(object) = value.as_object() else {
        errors.push(CompileError::new(
            ErrorCode::InvalidJson,
            format!("{place} must be an object with `id`, `kind` and `params`"),
        ));
        return None;
    };
    let id = structural_string(object, "id", true, &place, None, None, errors);
    let place = match &id {
        Some(id) => format!("node `{id}`"),
        None => place,
    };
    let node = id.as_deref();
    for key in object.keys() {
        if !matches!(key.as_str(), "id" | "kind" | "params") {
            errors.push(error_at(
                node,
                ErrorCode::UnknownField,
                format!("{place} has unknown field `{key}`; expected `id`, `kind`, `params`"),
            ));
        }
    }
    let kind_name = structural_string(object, "kind", true, &place, node, None, errors);
    let empty = Map::new();
    let params = match object.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(params)) => params,
        Some(_) => {
            errors.push(error_at(
                node,
                ErrorCode::InvalidJson,
                format!("`params` of {place} must be an object"),
            ));
            return None;
        }
    };
    let kind_name = kind_name?;
    if !NODE_KINDS.contains(&kind_name.as_str()) {
        errors.push(error_at(
            node,
            ErrorCode::UnknownNodeKind,
            format!(
                "{place} has unknown kind `{kind_name}`; known kinds: {}",
                NODE_KINDS.join(", ")
            ),
        ));
        return None;
    }
    let mut reader = ParamReader {
        node,
        place: &place,
        params,
        known: Vec::new(),
        errors,
    };
    let kind = read_kind(&kind_name, &mut reader);
    reader.finish();
    Some(Node {
        id: id?,
        kind: kind?,
    })
}

fn error_at(node: Option<&str>, code: ErrorCode, message: String) -> CompileError {
    CompileError {
        code,
        node: node.map(str::to_owned),
        edge: None,
        message,
    }
}

fn parse_edge(index: usize, value: &Value, errors: &mut Vec<CompileError>) -> Option<Edge> {
    let place = format!("edges[{index}]");
    let Some(object) = value.as_object() else {
        errors.push(CompileError::at_edge(
            ErrorCode::InvalidJson,
            index,
            None,
            format!("{place} must be an object with `from`, `to` and `input`"),
        ));
        return None;
    };
    let to = object.get("to").and_then(Value::as_str);
    for key in object.keys() {
        if !matches!(key.as_str(), "from" | "output" | "to" | "input") {
            errors.push(CompileError::at_edge(
                ErrorCode::UnknownField,
                index,
                to,
                format!(
                    "{place} has unknown field `{key}`; expected `from`, `output`, `to`, `input`"
                ),
            ));
        }
    }
    let mut read =
        |key, required| structural_string(object, key, required, &place, to, Some(index), errors);
    let from = read("from", true);
    let output = read("output", false);
    let to = read("to", true);
    let input = read("input", true);
    Some(Edge {
        from: from?,
        output,
        to: to?,
        input: input?,
    })
}

/// Reads the parameters of one node, recording every problem.
struct ParamReader<'a> {
    node: Option<&'a str>,
    place: &'a str,
    params: &'a Map<String, Value>,
    known: Vec<&'static str>,
    errors: &'a mut Vec<CompileError>,
}

impl<'a> ParamReader<'a> {
    fn error(&mut self, code: ErrorCode, message: String) {
        self.errors.push(error_at(self.node, code, message));
    }

    fn invalid(&mut self, key: &str, expected: &str) {
        let message = format!("`{key}` of {} must be {expected}", self.place);
        self.error(ErrorCode::InvalidParam, message);
    }

    /// The value of `key`, `null` counting as absent.
    fn optional(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.push(key);
        self.params.get(key).filter(|value| !value.is_null())
    }

    fn required(&mut self, key: &'static str) -> Option<&'a Value> {
        let value = self.optional(key);
        if value.is_none() {
            let message = format!("{} needs parameter `{key}`", self.place);
            self.error(ErrorCode::MissingParam, message);
        }
        value
    }

    fn string(&mut self, key: &'static str) -> Option<String> {
        match self.required(key)? {
            Value::String(text) => Some(text.clone()),
            _ => {
                self.invalid(key, "a string");
                None
            }
        }
    }

    fn period(&mut self, key: &'static str) -> Option<u32> {
        let value = self.required(key)?;
        match value.as_u64().map(u32::try_from) {
            Some(Ok(period)) => Some(period),
            _ => {
                self.invalid(key, "a whole number");
                None
            }
        }
    }

    fn decimal_value(&mut self, key: &'static str, value: &Value) -> Option<Decimal> {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => {
                self.invalid(
                    key,
                    "a decimal number (a JSON number or a string like \"2.5\")",
                );
                return None;
            }
        };
        match Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)) {
            Ok(decimal) => Some(decimal),
            Err(_) => {
                self.invalid(
                    key,
                    "a decimal number (a JSON number or a string like \"2.5\")",
                );
                None
            }
        }
    }

    fn decimal(&mut self, key: &'static str) -> Option<Decimal> {
        let value = self.required(key)?;
        self.decimal_value(key, value)
    }

    /// `Some(None)` when absent, `None` when present but invalid.
    fn optional_decimal(&mut self, key: &'static str) -> Option<Option<Decimal>> {
        match self.optional(key) {
            None => Some(None),
            Some(value) => self.decimal_value(key, value).map(Some),
        }
    }

    fn named<T>(
        &mut self,
        key: &'static str,
        from_name: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        let value = self.required(key)?;
        let parsed = value.as_str().and_then(from_name);
        if parsed.is_none() {
            self.invalid(key, &format!("one of: {}", expected()));
        }
        parsed
    }

    fn size(&mut self, key: &'static str) -> Option<SizeSpec> {
        let value = self.required(key)?;
        const SHAPE: &str = "an object with exactly one of `percent_equity` or `notional`";
        let entry = match value.as_object() {
            Some(object) if object.len() == 1 => object.iter().next(),
            _ => None,
        };
        let Some((unit, amount)) = entry else {
            self.invalid(key, SHAPE);
            return None;
        };
        let make: fn(Decimal) -> SizeSpec = match unit.as_str() {
            "percent_equity" => SizeSpec::PercentEquity,
            "notional" => SizeSpec::Notional,
            _ => {
                self.invalid(key, SHAPE);
                return None;
            }
        };
        self.decimal_value(key, amount).map(make)
    }

    fn string_list(&mut self, key: &'static str) -> Option<Vec<String>> {
        let value = self.required(key)?;
        let list = value.as_array().and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
        });
        if list.is_none() {
            self.invalid(key, "an array of strings");
        }
        list
    }

    fn action_list(&mut self, key: &'static str) -> Option<Vec<ActionKind>> {
        let names = self.string_list(key)?;
        let actions = names
            .iter()
            .map(|name| ActionKind::from_name(name))
            .collect::<Option<Vec<ActionKind>>>();
        if actions.is_none() {
            self.invalid(
                key,
                &format!("an array of actions among: {}", ActionKind::expected()),
            );
        }
        actions
    }

    /// Reports parameters the kind does not define.
    fn finish(mut self) {
        let unknown: Vec<String> = self
            .params
            .keys()
            .filter(|key| !self.known.contains(&key.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            let expected = if self.known.is_empty() {
                "it takes no parameters".to_owned()
            } else {
                format!("expected {}", quote_list(&self.known))
            };
            let message = format!("{} has unknown parameter `{key}`; {expected}", self.place);
            self.error(ErrorCode::UnknownField, message);
        }
    }
}

fn quote_list(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads every parameter of `kind` (so all problems are reported), then builds the kind.
fn read_kind(kind: &str, r: &mut ParamReader<'_>) -> Option<NodeKind> {
    let timeframe = |r: &mut ParamReader<'_>| {
        r.named(
            "timeframe",
            strategy_timeframe,
            strategy_timeframes_expected,
        )
    };
    Some(match kind {
        "price" => {
            let asset = r.string("asset");
            let timeframe = timeframe(r);
            let field = r.named("field", PriceField::from_name, PriceField::expected);
            NodeKind::Price {
                asset: asset?,
                timeframe: timeframe?,
                field: field?,
            }
        }
        "outcome_price" => {
            let market = r.string("market");
            let outcome = r.string("outcome");
            NodeKind::OutcomePrice {
                market: market?,
                outcome: outcome?,
            }
        }
        "sma" => NodeKind::Sma {
            period: r.period("period")?,
        },
        "ema" => NodeKind::Ema {
            period: r.period("period")?,
        },
        "rsi" => NodeKind::Rsi {
            period: r.period("period")?,
        },
        "atr" => NodeKind::Atr {
            period: r.period("period")?,
        },
        "returns" => NodeKind::Returns {
            period: r.period("period")?,
        },
        "volatility" => NodeKind::Volatility {
            period: r.period("period")?,
        },
        "macd" => {
            let fast = r.period("fast");
            let slow = r.period("slow");
            let signal = r.period("signal");
            NodeKind::Macd {
                fast: fast?,
                slow: slow?,
                signal: signal?,
            }
        }
        "bollinger" => {
            let period = r.period("period");
            let multiplier = r.decimal("multiplier");
            NodeKind::Bollinger {
                period: period?,
                multiplier: multiplier?,
            }
        }
        "compare" => {
            let op = r.named("op", CompareOp::from_name, CompareOp::expected);
            let threshold = r.optional_decimal("threshold");
            NodeKind::Compare {
                op: op?,
                threshold: threshold?,
            }
        }
        "crosses_above" => NodeKind::CrossesAbove {
            threshold: r.optional_decimal("threshold")?,
        },
        "crosses_below" => NodeKind::CrossesBelow {
            threshold: r.optional_decimal("threshold")?,
        },
        "and" => NodeKind::And,
        "or" => NodeKind::Or,
        "not" => NodeKind::Not,
        "open_long" | "open_short" | "target_position" => {
            let asset = r.string("asset");
            let size = r.size("size");
            let (asset, size) = (asset?, size?);
            match kind {
                "open_long" => NodeKind::OpenLong { asset, size },
                "open_short" => NodeKind::OpenShort { asset, size },
                _ => NodeKind::TargetPosition { asset, size },
            }
        }
        "close" => NodeKind::Close {
            asset: r.string("asset")?,
        },
        "stop_loss" => NodeKind::StopLoss {
            percent: r.decimal("percent")?,
        },
        "take_profit" => NodeKind::TakeProfit {
            percent: r.decimal("percent")?,
        },
        "max_position" => NodeKind::MaxPosition {
            size: r.size("size")?,
        },
        "llm_instruction" => {
            let model = r.string("model");
            let guidance = r.string("guidance");
            let allowed_actions = r.action_list("allowed_actions");
            let assets = r.string_list("assets");
            NodeKind::LlmInstruction {
                model: model?,
                guidance: guidance?,
                allowed_actions: allowed_actions?,
                assets: assets?,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<ErrorCode> {
        parse(text).unwrap_err().iter().map(|e| e.code).collect()
    }

    #[test]
    fn invalid_json_is_an_error_not_a_panic() {
        assert_eq!(codes("{"), vec![ErrorCode::InvalidJson]);
        assert_eq!(codes("[]"), vec![ErrorCode::InvalidJson]);
        assert_eq!(
            codes(r#"{"version":1,"nodes":{},"edges":[]}"#),
            vec![ErrorCode::InvalidJson]
        );
        assert_eq!(
            codes(r#"{"version":1,"nodes":[{"id":7,"kind":"and"}],"edges":[]}"#),
            vec![ErrorCode::InvalidJson]
        );
    }

    #[test]
    fn missing_fields_are_reported() {
        assert_eq!(
            codes(r#"{"nodes":[],"edges":[]}"#),
            vec![ErrorCode::MissingField]
        );
        assert_eq!(
            codes(r#"{"version":1}"#),
            vec![ErrorCode::MissingField, ErrorCode::MissingField]
        );
        assert_eq!(
            codes(r#"{"version":1,"nodes":[{"id":"a"}],"edges":[{"from":"a","input":"x"}]}"#),
            vec![ErrorCode::MissingField, ErrorCode::MissingField]
        );
    }

    #[test]
    fn unknown_fields_are_reported_everywhere() {
        let text = r#"{"version":1,"extra":0,
            "nodes":[{"id":"a","kind":"sma","params":{"period":3,"window":4},"note":"x"}],
            "edges":[{"from":"a","to":"b","input":"x","weight":1}]}"#;
        let errors = parse(text).unwrap_err();
        assert_eq!(errors.len(), 4);
        assert!(errors.iter().all(|e| e.code == ErrorCode::UnknownField));
        assert_eq!(errors.as_slice()[3].edge, Some(0));
        assert_eq!(errors.as_slice()[1].node.as_deref(), Some("a"));
    }

    #[test]
    fn unknown_kind_names_the_node() {
        let errors =
            parse(r#"{"version":1,"nodes":[{"id":"x","kind":"wma"}],"edges":[]}"#).unwrap_err();
        assert_eq!(errors.codes(), vec![ErrorCode::UnknownNodeKind]);
        assert_eq!(errors.as_slice()[0].node.as_deref(), Some("x"));
    }

    #[test]
    fn unsupported_version_stops_early() {
        assert_eq!(
            codes(r#"{"version":2,"whatever":true}"#),
            vec![ErrorCode::UnsupportedVersion]
        );
        assert_eq!(
            codes(r#"{"version":"1","nodes":[],"edges":[]}"#),
            vec![ErrorCode::InvalidJson]
        );
    }

    #[test]
    fn every_param_problem_is_reported() {
        let text = r#"{"version":1,"nodes":[
            {"id":"p","kind":"price","params":{"asset":5,"timeframe":"2h"}},
            {"id":"b","kind":"open_long","params":{"asset":"BTC","size":{"lots":1}}},
            {"id":"m","kind":"macd","params":{"fast":-1,"slow":2.5,"signal":"9"}}
        ],"edges":[]}"#;
        let errors = parse(text).unwrap_err();
        let got: Vec<(ErrorCode, Option<&str>)> =
            errors.iter().map(|e| (e.code, e.node.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (ErrorCode::InvalidParam, Some("p")),
                (ErrorCode::InvalidParam, Some("p")),
                (ErrorCode::MissingParam, Some("p")),
                (ErrorCode::InvalidParam, Some("b")),
                (ErrorCode::InvalidParam, Some("m")),
                (ErrorCode::InvalidParam, Some("m")),
                (ErrorCode::InvalidParam, Some("m")),
            ]
        );
    }

    #[test]
    fn decimals_accept_numbers_and_strings() {
        let text = r#"{"version":1,"nodes":[
            {"id":"a","kind":"stop_loss","params":{"percent":2.5}},
            {"id":"b","kind":"stop_loss","params":{"percent":"2.50"}},
            {"id":"c","kind":"compare","params":{"op":"gt","threshold":1e-3}},
            {"id":"d","kind":"compare","params":{"op":"gt","threshold":null}}
        ],"edges":[]}"#;
        let graph = parse(text).unwrap();
        assert_eq!(
            graph.nodes[0].kind,
            NodeKind::StopLoss {
                percent: Decimal::new(25, 1)
            }
        );
        assert_eq!(
            graph.nodes[1].kind,
            NodeKind::StopLoss {
                percent: Decimal::new(250, 2)
            }
        );
        assert_eq!(
            graph.nodes[2].kind,
            NodeKind::Compare {
                op: CompareOp::Gt,
                threshold: Some(Decimal::new(1, 3))
            }
        );
        assert_eq!(
            graph.nodes[3].kind,
            NodeKind::Compare {
                op: CompareOp::Gt,
                threshold: None
            }
        );
        assert_eq!(
            codes(
                r#"{"version":1,"nodes":[{"id":"a","kind":"stop_loss","params":{"percent":"two"}}],"edges":[]}"#
            ),
            vec![ErrorCode::InvalidParam]
        );
    }

    #[test]
    fn oversized_documents_are_refused() {
        let big = " ".repeat(MAX_DOCUMENT_BYTES + 1);
        assert_eq!(codes(&big), vec![ErrorCode::GraphTooLarge]);
        let nodes: Vec<String> = (0..=MAX_NODES)
            .map(|i| format!(r#"{{"id":"n{i}","kind":"and"}}"#))
            .collect();
        let text = format!(
            r#"{{"version":1,"nodes":[{}],"edges":[]}}"#,
            nodes.join(",")
        );
        assert_eq!(codes(&text), vec![ErrorCode::GraphTooLarge]);
    }

    #[test]
    fn serde_goes_through_the_parser() {
        let graph: StrategyGraph =
            serde_json::from_str(r#"{"version":1,"nodes":[{"id":"a","kind":"not"}],"edges":[]}"#)
                .unwrap();
        assert_eq!(graph.nodes[0].kind, NodeKind::Not);
        let error = serde_json::from_str::<StrategyGraph>(
            r#"{"version":1,"nodes":[{"id":"a","kind":"nope"}],"edges":[]}"#,
        )
        .unwrap_err();
        assert!(error.to_string().contains("unknown_node_kind"), "{error}");
    }
}
