//! The strategy graph as data: nodes, their kinds and parameters, the edges between their
//! ports, and the port catalog that says which edges are legal.
//!
//! This module owns the shape of a graph only. It does not parse JSON (see [`crate::parse`]),
//! check bounds or connectivity (see [`crate::compile()`]) or evaluate anything.

use std::fmt;

use clones_market::Timeframe;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The only format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A strategy: a directed acyclic graph of typed nodes joined by edges between named ports.
///
/// Build one with [`crate::parse`] (or serde, which goes through the same parser), by hand, or
/// with [`crate::default_draft_graph`]. A graph value may be invalid; [`crate::compile()`] says
/// whether it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyGraph {
    /// The format version; must be [`FORMAT_VERSION`].
    pub version: u32,
    /// The nodes, in document order (the order carries no meaning).
    pub nodes: Vec<Node>,
    /// The edges, in document order (the order carries no meaning).
    pub edges: Vec<Edge>,
}

impl StrategyGraph {
    /// The node with `id`, if any (the first one when ids are duplicated).
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id == id)
    }

    /// The document as JSON text, keeping ids and the order of nodes and edges.
    ///
    /// For a form independent of ids and order, use [`crate::canonical_json`].
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        crate::json::graph_to_json(self, false).write(&mut out, false);
        out
    }
}

impl Serialize for StrategyGraph {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::json::graph_to_json(self, false).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StrategyGraph {
    /// Deserializes through [`crate::parse_value`], so the same rules apply; on failure the
    /// serde error message lists every [`crate::CompileError`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        crate::parse::parse_value(&value).map_err(serde::de::Error::custom)
    }
}

/// One node: an id unique within its graph and what the node does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// 1 to 64 characters of `[A-Za-z0-9_-]`, unique within the graph.
    pub id: String,
    /// The node's kind and its parameters.
    pub kind: NodeKind,
}

/// An edge from an output port of one node to an input port of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The id of the node the value comes from.
    pub from: String,
    /// The output port on `from`; may be omitted when `from` has a single output.
    pub output: Option<String>,
    /// The id of the node the value goes to.
    pub to: String,
    /// The input port on `to`.
    pub input: String,
}

impl Edge {
    /// An edge from the single output of `from` to `input` on `to`.
    pub fn new(from: &str, to: &str, input: &str) -> Self {
        Edge {
            from: from.to_owned(),
            output: None,
            to: to.to_owned(),
            input: input.to_owned(),
        }
    }

    /// An edge from the named `output` of `from` to `input` on `to`.
    pub fn from_port(from: &str, output: &str, to: &str, input: &str) -> Self {
        Edge {
            from: from.to_owned(),
            output: Some(output.to_owned()),
            to: to.to_owned(),
            input: input.to_owned(),
        }
    }
}

/// What a node does, with its parameters. The JSON `kind` of each variant is
/// [`NodeKind::name`]; its ports are [`NodeKind::inputs`] and [`NodeKind::outputs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// `price`: one field of the candles of an asset at a timeframe.
    Price {
        /// The asset symbol, e.g. `BTC`.
        asset: String,
        /// The candle timeframe.
        timeframe: Timeframe,
        /// Which candle field the series carries.
        field: PriceField,
    },
    /// `outcome_price`: the price (0 to 1) of one outcome of a prediction market.
    OutcomePrice {
        /// The market id.
        market: String,
        /// The outcome id within the market.
        outcome: String,
    },
    /// `sma`: simple moving average.
    Sma {
        /// Number of values averaged.
        period: u32,
    },
    /// `ema`: exponential moving average, seeded with the SMA of the first `period` values.
    Ema {
        /// The period; the smoothing factor is `2 / (period + 1)`.
        period: u32,
    },
    /// `rsi`: Wilder's relative strength index, 0 to 100.
    Rsi {
        /// Number of changes averaged.
        period: u32,
    },
    /// `macd`: moving average convergence/divergence (outputs `line`, `signal`, `histogram`).
    Macd {
        /// Period of the fast EMA; less than `slow`.
        fast: u32,
        /// Period of the slow EMA.
        slow: u32,
        /// Period of the EMA of the line.
        signal: u32,
    },
    /// `atr`: Wilder's average true range of `high`, `low` and `close` inputs.
    Atr {
        /// Number of true ranges averaged.
        period: u32,
    },
    /// `bollinger`: Bollinger bands (outputs `upper`, `middle`, `lower`).
    Bollinger {
        /// Number of values in the moving window.
        period: u32,
        /// Width of the bands in population standard deviations.
        multiplier: Decimal,
    },
    /// `returns`: simple return over `period` values, as a fraction (0.01 = 1 %).
    Returns {
        /// How many values back the return is measured.
        period: u32,
    },
    /// `volatility`: sample standard deviation of the last `period` one-step returns.
    Volatility {
        /// Number of one-step returns in the window (at least 2).
        period: u32,
    },
    /// `compare`: `left <op> right`, or `left <op> threshold` when `right` is not connected.
    Compare {
        /// The comparison.
        op: CompareOp,
        /// The constant to compare with; exactly one of this and the `right` input.
        threshold: Option<Decimal>,
    },
    /// `crosses_above`: `left` moved from at or below `right` (or `threshold`) to above it.
    CrossesAbove {
        /// The constant level; exactly one of this and the `right` input.
        threshold: Option<Decimal>,
    },
    /// `crosses_below`: `left` moved from at or above `right` (or `threshold`) to below it.
    CrossesBelow {
        /// The constant level; exactly one of this and the `right` input.
        threshold: Option<Decimal>,
    },
    /// `and`: true when every input is true.
    And,
    /// `or`: true when any input is true.
    Or,
    /// `not`: the negation of its input.
    Not,
    /// `open_long`: propose opening (or adding to) a long position when `when` is true.
    OpenLong {
        /// The asset to trade.
        asset: String,
        /// The size of the order.
        size: SizeSpec,
    },
    /// `open_short`: propose opening (or adding to) a short position when `when` is true.
    OpenShort {
        /// The asset to trade.
        asset: String,
        /// The size of the order.
        size: SizeSpec,
    },
    /// `close`: propose closing the whole position in the asset when `when` is true.
    Close {
        /// The asset whose position is closed.
        asset: String,
    },
    /// `target_position`: propose moving the position to `size` (negative is short, zero
    /// flat) when `when` is true.
    TargetPosition {
        /// The asset to trade.
        asset: String,
        /// The signed target size.
        size: SizeSpec,
    },
    /// `stop_loss`: close a position opened by the attached actions once it loses `percent`.
    StopLoss {
        /// Loss, in percent of the entry price, that triggers the stop.
        percent: Decimal,
    },
    /// `take_profit`: close a position opened by the attached actions once it gains `percent`.
    TakeProfit {
        /// Gain, in percent of the entry price, that triggers the exit.
        percent: Decimal,
    },
    /// `max_position`: cap the position the attached actions may build.
    MaxPosition {
        /// The cap.
        size: SizeSpec,
    },
    /// `llm_instruction`: ask a language model to choose among actions, with guidance.
    LlmInstruction {
        /// The model id, checked against [`crate::ModelStrength`] entitlements.
        model: String,
        /// Free-text guidance for the model.
        guidance: String,
        /// The actions the model may choose from (non-empty, no duplicates).
        allowed_actions: Vec<ActionKind>,
        /// The assets the model may act on (non-empty, no duplicates).
        assets: Vec<String>,
    },
}

/// Every node kind name, in catalog order.
pub const NODE_KINDS: [&str; 24] = [
    "price",
    "outcome_price",
    "sma",
    "ema",
    "rsi",
    "macd",
    "atr",
    "bollinger",
    "returns",
    "volatility",
    "compare",
    "crosses_above",
    "crosses_below",
    "and",
    "or",
    "not",
    "open_long",
    "open_short",
    "close",
    "target_position",
    "stop_loss",
    "take_profit",
    "max_position",
    "llm_instruction",
];

/// The type of the values a port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortType {
    /// A series of numbers (prices, indicator values).
    Number,
    /// A series of true/false values (conditions).
    Bool,
    /// An action (orders, model instructions) that risk rules attach to.
    Action,
}

impl PortType {
    /// The name used in documentation and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PortType::Number => "number",
            PortType::Bool => "bool",
            PortType::Action => "action",
        }
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An input port of a node kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputPort {
    /// The port name used in edges' `input`.
    pub name: &'static str,
    /// The type of value it accepts.
    pub ty: PortType,
    /// The fewest edges it needs (0 = optional).
    pub min_edges: usize,
    /// The most edges it accepts.
    pub max_edges: usize,
}

/// An output port of a node kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputPort {
    /// The port name used in edges' `output`.
    pub name: &'static str,
    /// The type of value it produces.
    pub ty: PortType,
}

/// The most edges `and`/`or` accept on `inputs`, and `llm_instruction` on `context`.
pub const MAX_FAN_IN: usize = 16;
/// The most actions one risk node attaches to.
pub const MAX_RISK_TARGETS: usize = 32;

const fn input(name: &'static str, ty: PortType, min_edges: usize, max_edges: usize) -> InputPort {
    InputPort {
        name,
        ty,
        min_edges,
        max_edges,
    }
}

const fn output(name: &'static str, ty: PortType) -> OutputPort {
    OutputPort { name, ty }
}

const NO_INPUTS: &[InputPort] = &[];
const SOURCE_INPUT: &[InputPort] = &[input("source", PortType::Number, 1, 1)];
const ATR_INPUTS: &[InputPort] = &[
    input("high", PortType::Number, 1, 1),
    input("low", PortType::Number, 1, 1),
    input("close", PortType::Number, 1, 1),
];
const BINARY_INPUTS: &[InputPort] = &[
    input("left", PortType::Number, 1, 1),
    input("right", PortType::Number, 0, 1),
];
const LOGIC_INPUTS: &[InputPort] = &[input("inputs", PortType::Bool, 2, MAX_FAN_IN)];
const NOT_INPUTS: &[InputPort] = &[input("input", PortType::Bool, 1, 1)];
const ACTION_INPUTS: &[InputPort] = &[input("when", PortType::Bool, 1, 1)];
const RISK_INPUTS: &[InputPort] = &[input("actions", PortType::Action, 1, MAX_RISK_TARGETS)];
const LLM_INPUTS: &[InputPort] = &[
    input("when", PortType::Bool, 0, 1),
    input("context", PortType::Number, 0, MAX_FAN_IN),
];

const NO_OUTPUTS: &[OutputPort] = &[];
const NUMBER_OUTPUT: &[OutputPort] = &[output("out", PortType::Number)];
const BOOL_OUTPUT: &[OutputPort] = &[output("out", PortType::Bool)];
const ACTION_OUTPUT: &[OutputPort] = &[output("out", PortType::Action)];
const MACD_OUTPUTS: &[OutputPort] = &[
    output("line", PortType::Number),
    output("signal", PortType::Number),
    output("histogram", PortType::Number),
];
const BOLLINGER_OUTPUTS: &[OutputPort] = &[
    output("upper", PortType::Number),
    output("middle", PortType::Number),
    output("lower", PortType::Number),
];

impl NodeKind {
    /// The JSON `kind` text.
    pub fn name(&self) -> &'static str {
        use NodeKind::*;
        match self {
            Price { .. } => "price",
            OutcomePrice { .. } => "outcome_price",
            Sma { .. } => "sma",
            Ema { .. } => "ema",
            Rsi { .. } => "rsi",
            Macd { .. } => "macd",
            Atr { .. } => "atr",
            Bollinger { .. } => "bollinger",
            Returns { .. } => "returns",
            Volatility { .. } => "volatility",
            Compare { .. } => "compare",
            CrossesAbove { .. } => "crosses_above",
            CrossesBelow { .. } => "crosses_below",
            And => "and",
            Or => "or",
            Not => "not",
            OpenLong { .. } => "open_long",
            OpenShort { .. } => "open_short",
            Close { .. } => "close",
            TargetPosition { .. } => "target_position",
            StopLoss { .. } => "stop_loss",
            TakeProfit { .. } => "take_profit",
            MaxPosition { .. } => "max_position",
            LlmInstruction { .. } => "llm_instruction",
        }
    }

    /// The input ports.
    pub fn inputs(&self) -> &'static [InputPort] {
        use NodeKind::*;
        match self {
            Price { .. } | OutcomePrice { .. } => NO_INPUTS,
            Sma { .. }
            | Ema { .. }
            | Rsi { .. }
            | Macd { .. }
            | Bollinger { .. }
            | Returns { .. }
            | Volatility { .. } => SOURCE_INPUT,
            Atr { .. } => ATR_INPUTS,
            Compare { .. } | CrossesAbove { .. } | CrossesBelow { .. } => BINARY_INPUTS,
            And | Or => LOGIC_INPUTS,
            Not => NOT_INPUTS,
            OpenLong { .. } | OpenShort { .. } | Close { .. } | TargetPosition { .. } => {
                ACTION_INPUTS
            }
            StopLoss { .. } | TakeProfit { .. } | MaxPosition { .. } => RISK_INPUTS,
            LlmInstruction { .. } => LLM_INPUTS,
        }
    }

    /// The output ports.
    pub fn outputs(&self) -> &'static [OutputPort] {
        use NodeKind::*;
        match self {
            Price { .. }
            | OutcomePrice { .. }
            | Sma { .. }
            | Ema { .. }
            | Rsi { .. }
            | Atr { .. }
            | Returns { .. }
            | Volatility { .. } => NUMBER_OUTPUT,
            Macd { .. } => MACD_OUTPUTS,
            Bollinger { .. } => BOLLINGER_OUTPUTS,
            Compare { .. } | CrossesAbove { .. } | CrossesBelow { .. } | And | Or | Not => {
                BOOL_OUTPUT
            }
            OpenLong { .. }
            | OpenShort { .. }
            | Close { .. }
            | TargetPosition { .. }
            | LlmInstruction { .. } => ACTION_OUTPUT,
            StopLoss { .. } | TakeProfit { .. } | MaxPosition { .. } => NO_OUTPUTS,
        }
    }

    /// The input port called `name`, if any.
    pub fn input(&self, name: &str) -> Option<&'static InputPort> {
        self.inputs().iter().find(|port| port.name == name)
    }

    /// The output port called `name`, if any.
    pub fn output(&self, name: &str) -> Option<&'static OutputPort> {
        self.outputs().iter().find(|port| port.name == name)
    }

    /// True for nodes that propose something: the four order actions and `llm_instruction`.
    pub fn is_action(&self) -> bool {
        matches!(
            self,
            NodeKind::OpenLong { .. }
                | NodeKind::OpenShort { .. }
                | NodeKind::Close { .. }
                | NodeKind::TargetPosition { .. }
                | NodeKind::LlmInstruction { .. }
        )
    }

    /// True for `stop_loss`, `take_profit` and `max_position`.
    pub fn is_risk(&self) -> bool {
        matches!(
            self,
            NodeKind::StopLoss { .. } | NodeKind::TakeProfit { .. } | NodeKind::MaxPosition { .. }
        )
    }
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The JSON text.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value whose JSON text is `text`.
            pub fn from_name(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted texts, for messages.
            pub(crate) fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::from_name(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} `{text}`, expected one of: {}",
                        stringify!($name),
                        $name::expected()
                    ))
                })
            }
        }
    };
}

/// The candle timeframes a graph may name, shortest first, spelled as [`Timeframe::as_str`]
/// spells them. Market memory holds more; the format admits only these.
pub const STRATEGY_TIMEFRAMES: [Timeframe; 6] = [
    Timeframe::M1,
    Timeframe::M5,
    Timeframe::M15,
    Timeframe::H1,
    Timeframe::H4,
    Timeframe::D1,
];

/// The strategy timeframe spelled `text`.
pub(crate) fn strategy_timeframe(text: &str) -> Option<Timeframe> {
    STRATEGY_TIMEFRAMES
        .into_iter()
        .find(|timeframe| timeframe.as_str() == text)
}

/// The accepted timeframe spellings, for messages.
pub(crate) fn strategy_timeframes_expected() -> String {
    STRATEGY_TIMEFRAMES.map(Timeframe::as_str).join(", ")
}

text_enum! {
    /// A candle field.
    pub enum PriceField {
        /// Opening price.
        Open = "open",
        /// Highest price.
        High = "high",
        /// Lowest price.
        Low = "low",
        /// Closing price.
        Close = "close",
        /// Traded volume.
        Volume = "volume",
    }
}

text_enum! {
    /// A comparison operator of `compare`.
    pub enum CompareOp {
        /// Greater than.
        Gt = "gt",
        /// Greater than or equal.
        Gte = "gte",
        /// Less than.
        Lt = "lt",
        /// Less than or equal.
        Lte = "lte",
        /// Equal within a relative tolerance of 1e-9.
        Eq = "eq",
    }
}

text_enum! {
    /// What an action proposes.
    pub enum ActionKind {
        /// Open or add to a long position.
        OpenLong = "open_long",
        /// Open or add to a short position.
        OpenShort = "open_short",
        /// Close the whole position.
        Close = "close",
        /// Move the position to a target size.
        TargetPosition = "target_position",
    }
}

/// A size: a percentage of account equity, or a fixed notional in the account currency.
///
/// JSON: `{"percent_equity": "10"}` or `{"notional": "2500"}`; amounts are decimal strings
/// (plain JSON numbers are accepted when parsing a graph).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSpec {
    /// Percent of account equity (10 = 10 %).
    PercentEquity(#[serde(with = "rust_decimal::serde::str")] Decimal),
    /// A fixed notional amount in the account currency.
    Notional(#[serde(with = "rust_decimal::serde::str")] Decimal),
}

impl SizeSpec {
    /// The JSON key of the variant.
    pub fn key(&self) -> &'static str {
        match self {
            SizeSpec::PercentEquity(_) => "percent_equity",
            SizeSpec::Notional(_) => "notional",
        }
    }

    /// The amount, whatever its unit.
    pub fn amount(&self) -> Decimal {
        match self {
            SizeSpec::PercentEquity(amount) | SizeSpec::Notional(amount) => *amount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_kind_names_match_the_catalog() {
        let kinds = crate::test_support::one_of_each_kind();
        let names: Vec<&str> = kinds.iter().map(NodeKind::name).collect();
        assert_eq!(names, NODE_KINDS.to_vec());
    }

    #[test]
    fn port_names_are_unique_per_kind() {
        for kind in crate::test_support::one_of_each_kind() {
            let mut names: Vec<&str> = kind.inputs().iter().map(|port| port.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), kind.inputs().len(), "{}", kind.name());
            let mut names: Vec<&str> = kind.outputs().iter().map(|port| port.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), kind.outputs().len(), "{}", kind.name());
        }
    }

    #[test]
    fn text_enums_round_trip() {
        for timeframe in STRATEGY_TIMEFRAMES {
            assert_eq!(strategy_timeframe(timeframe.as_str()), Some(timeframe));
        }
        assert_eq!(strategy_timeframe("2h"), None);
        assert_eq!(strategy_timeframes_expected(), "1m, 5m, 15m, 1h, 4h, 1d");
        assert_eq!(
            serde_json::to_string(&ActionKind::TargetPosition).unwrap(),
            "\"target_position\""
        );
        let size: SizeSpec = serde_json::from_str(r#"{"notional":"12.5"}"#).unwrap();
        assert_eq!(size, SizeSpec::Notional(Decimal::new(125, 1)));
        assert_eq!(
            serde_json::to_string(&size).unwrap(),
            r#"{"notional":"12.5"}"#
        );
    }
}
