//! A minimal JSON tree and writer for graphs.
//!
//! It exists so the canonical form never depends on serde_json's map ordering or number
//! formatting (both can change with crate features): every value the format writes is a
//! string, a non-negative integer, an array or an object with static keys, and this
//! module writes them byte for byte as documented in `docs/strategy-format.md`.

use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::model::{Edge, Node, NodeKind, SizeSpec, StrategyGraph};

/// A JSON value as the strategy format uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Json {
    UInt(u64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    pub(crate) fn str(text: &str) -> Json {
        Json::Str(text.to_owned())
    }

    /// Writes compact JSON (no whitespace). With `sort_keys`, object keys are written in
    /// ascending byte order; otherwise in insertion order.
    pub(crate) fn write(&self, out: &mut String, sort_keys: bool) {
        match self {
            Json::UInt(value) => out.push_str(&value.to_string()),
            Json::Str(text) => write_string(out, text),
            Json::Arr(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out, sort_keys);
                }
                out.push(']');
            }
            Json::Obj(entries) => {
                let mut order: Vec<&(&'static str, Json)> = entries.iter().collect();
                if sort_keys {
                    order.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                }
                out.push('{');
                for (index, (key, value)) in order.into_iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out, sort_keys);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `text` as a JSON string: `"` and `\` escaped with a backslash; U+0008, U+0009,
/// U+000A, U+000C and U+000D as `\b`, `\t`, `\n`, `\f`, `\r`; other code points below U+0020
/// as `\u00xx` with lowercase hex; everything else as raw UTF-8.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::UInt(value) => serializer.serialize_u64(*value),
            Json::Str(text) => serializer.serialize_str(text),
            Json::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Obj(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// A decimal as a JSON string; in canonical form with trailing zeros removed and without a
/// negative zero.
pub(crate) fn decimal(value: Decimal, canonical: bool) -> Json {
    if canonical {
        let normalized = value.normalize();
        let normalized = if normalized.is_zero() {
            Decimal::ZERO
        } else {
            normalized
        };
        Json::Str(normalized.to_string())
    } else {
        Json::Str(value.to_string())
    }
}

fn size(value: &SizeSpec, canonical: bool) -> Json {
    Json::Obj(vec![(value.key(), decimal(value.amount(), canonical))])
}

/// The `params` object of a node. In canonical form decimals are normalized and the lists of
/// `llm_instruction` are sorted.
pub(crate) fn params(kind: &NodeKind, canonical: bool) -> Json {
    use NodeKind::*;
    let period = |value: u32| Json::UInt(u64::from(value));
    let entries: Vec<(&'static str, Json)> = match kind {
        Price {
            asset,
            timeframe,
            field,
        } => vec![
            ("asset", Json::str(asset)),
            ("timeframe", Json::str(timeframe.as_str())),
            ("field", Json::str(field.as_str())),
        ],
        OutcomePrice { market, outcome } => vec![
            ("market", Json::str(market)),
            ("outcome", Json::str(outcome)),
        ],
        Sma { period: p }
        | Ema { period: p }
        | Rsi { period: p }
        | Atr { period: p }
        | Returns { period: p }
        | Volatility { period: p } => vec![("period", period(*p))],
        Macd { fast, slow, signal } => vec![
            ("fast", period(*fast)),
            ("slow", period(*slow)),
            ("signal", period(*signal)),
        ],
        Bollinger {
            period: p,
            multiplier,
        } => vec![
            ("period", period(*p)),
            ("multiplier", decimal(*multiplier, canonical)),
        ],
        Compare { op, threshold } => {
            let mut entries = vec![("op", Json::str(op.as_str()))];
            if let Some(threshold) = threshold {
                entries.push(("threshold", decimal(*threshold, canonical)));
            }
            entries
        }
        CrossesAbove { threshold } | CrossesBelow { threshold } => match threshold {
            Some(threshold) => vec![("threshold", decimal(*threshold, canonical))],
            None => Vec::new(),
        },
        And | Or | Not => Vec::new(),
        OpenLong { asset, size: s }
        | OpenShort { asset, size: s }
        | TargetPosition { asset, size: s } => {
            vec![("asset", Json::str(asset)), ("size", size(s, canonical))]
        }
        Close { asset } => vec![("asset", Json::str(asset))],
        StopLoss { percent } | TakeProfit { percent } => {
            vec![("percent", decimal(*percent, canonical))]
        }
        MaxPosition { size: s } => vec![("size", size(s, canonical))],
        LlmInstruction {
            model,
            guidance,
            allowed_actions,
            assets,
        } => {
            let mut actions: Vec<&'static str> = allowed_actions
                .iter()
                .map(|action| action.as_str())
                .collect();
            let mut assets: Vec<&str> = assets.iter().map(String::as_str).collect();
            if canonical {
                actions.sort_unstable();
                assets.sort_unstable();
            }
            vec![
                ("model", Json::str(model)),
                ("guidance", Json::str(guidance)),
                (
                    "allowed_actions",
                    Json::Arr(actions.into_iter().map(Json::str).collect()),
                ),
                (
                    "assets",
                    Json::Arr(assets.into_iter().map(Json::str).collect()),
                ),
            ]
        }
    };
    Json::Obj(entries)
}

pub(crate) fn node(node: &Node, canonical: bool) -> Json {
    Json::Obj(vec![
        ("id", Json::str(&node.id)),
        ("kind", Json::str(node.kind.name())),
        ("params", params(&node.kind, canonical)),
    ])
}

pub(crate) fn edge(edge: &Edge) -> Json {
    let mut entries = vec![("from", Json::str(&edge.from))];
    if let Some(output) = &edge.output {
        entries.push(("output", Json::str(output)));
    }
    entries.push(("to", Json::str(&edge.to)));
    entries.push(("input", Json::str(&edge.input)));
    Json::Obj(entries)
}

/// The whole document as a JSON tree, in document order.
pub(crate) fn graph_to_json(graph: &StrategyGraph, canonical: bool) -> Json {
    Json::Obj(vec![
        ("version", Json::UInt(u64::from(graph.version))),
        (
            "nodes",
            Json::Arr(graph.nodes.iter().map(|n| node(n, canonical)).collect()),
        ),
        ("edges", Json::Arr(graph.edges.iter().map(edge).collect())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_json() {
        let mut out = String::new();
        Json::str("a\"b\\c\n\u{1}\u{7f}é").write(&mut out, true);
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é\"");
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\n\u{1}\u{7f}é");
    }

    #[test]
    fn objects_sort_keys_only_when_asked() {
        let value = Json::Obj(vec![("b", Json::UInt(1)), ("a", Json::str("x"))]);
        let mut sorted = String::new();
        value.write(&mut sorted, true);
        assert_eq!(sorted, r#"{"a":"x","b":1}"#);
        let mut kept = String::new();
        value.write(&mut kept, false);
        assert_eq!(kept, r#"{"b":1,"a":"x"}"#);
    }

    #[test]
    fn canonical_decimals_drop_trailing_zeros_and_negative_zero() {
        assert_eq!(
            decimal(Decimal::new(2500, 2), true),
            Json::Str("25".to_owned())
        );
        assert_eq!(
            decimal(Decimal::new(-0, 3), true),
            Json::Str("0".to_owned())
        );
        assert_eq!(
            decimal(Decimal::new(2500, 2), false),
            Json::Str("25.00".to_owned())
        );
        let negative_zero = Decimal::new(-1, 2) + Decimal::new(1, 2);
        assert_eq!(decimal(-negative_zero, true), Json::Str("0".to_owned()));
    }
}
