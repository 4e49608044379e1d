//! The compiled form of a strategy: what [`crate::compile()`] produces and [`crate::evaluate`]
//! runs.
//!
//! A [`CompiledPlan`] is self-contained (it owns copies of everything it needs from the graph),
//! immutable and cheap to share. Its operations are private: callers see only what data it
//! needs, its risk rules and the models it uses.

use std::collections::BTreeSet;

use clones_market::Timeframe;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::market::SeriesKey;
use crate::model::{ActionKind, CompareOp, PriceField, SizeSpec};
use crate::strength::ModelStrength;

/// A series the plan reads, and how many items of it the plan needs before its indicators are
/// all defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequirement {
    /// The series.
    pub series: SeriesKey,
    /// The fewest items (candles or outcome prices) needed for every indicator on this series
    /// to have a value at the last item, counting one more for `crosses_*` nodes that also
    /// need the previous value.
    pub warmup_bars: u32,
}

/// The risk settings that apply to one proposed action. Amounts are decimal strings in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSettings {
    /// Close the position once it loses this percent of its entry price.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub stop_loss_percent: Option<Decimal>,
    /// Close the position once it gains this percent of its entry price.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub take_profit_percent: Option<Decimal>,
    /// The largest position the action may build.
    pub max_position: Option<SizeSpec>,
}

/// What a risk node enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RiskKind {
    /// A stop loss, in percent of the entry price.
    StopLoss {
        /// The percent.
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
    },
    /// A take profit, in percent of the entry price.
    TakeProfit {
        /// The percent.
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
    },
    /// A position cap.
    MaxPosition {
        /// The cap.
        size: SizeSpec,
    },
}

/// A risk node of the plan and the action nodes it is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRule {
    /// The risk node's id.
    pub node: String,
    /// What it enforces.
    #[serde(flatten)]
    pub kind: RiskKind,
    /// The ids of the action nodes it applies to, sorted.
    pub actions: Vec<String>,
}

/// A strategy checked against its constraints and ready to evaluate.
///
/// Produced only by [`crate::compile()`]; evaluate it with [`crate::evaluate`] or
/// [`crate::replay`].
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPlan {
    pub(crate) clocks: Vec<SeriesKey>,
    pub(crate) numeric: Vec<NumericOp>,
    pub(crate) slot_clock: Vec<usize>,
    pub(crate) logic: Vec<LogicOp>,
    pub(crate) actions: Vec<ActionOp>,
    pub(crate) llm: Vec<LlmOp>,
    pub(crate) requirements: Vec<DataRequirement>,
    pub(crate) risk_rules: Vec<RiskRule>,
    pub(crate) assets: Vec<String>,
    pub(crate) traded_assets: Vec<String>,
    pub(crate) models: Vec<String>,
}

impl CompiledPlan {
    /// Every series the plan reads with its warm-up, sorted by series.
    pub fn requirements(&self) -> &[DataRequirement] {
        &self.requirements
    }

    /// Every asset the plan references (as data or to trade), sorted.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The assets the plan may trade (order actions and `llm_instruction` assets), sorted.
    pub fn traded_assets(&self) -> &[String] {
        &self.traded_assets
    }

    /// The candle timeframes the plan reads, sorted from shortest.
    pub fn timeframes(&self) -> Vec<Timeframe> {
        let timeframes: BTreeSet<Timeframe> = self
            .clocks
            .iter()
            .filter_map(|series| match series {
                SeriesKey::Candles(key) => Some(key.timeframe),
                SeriesKey::Outcome(_) => None,
            })
            .collect();
        timeframes.into_iter().collect()
    }

    /// The largest warm-up over all series: how many candles to fetch at least.
    pub fn warmup_bars(&self) -> u32 {
        self.requirements
            .iter()
            .map(|requirement| requirement.warmup_bars)
            .max()
            .unwrap_or(0)
    }

    /// Every risk rule, sorted by node id.
    pub fn risk_rules(&self) -> &[RiskRule] {
        &self.risk_rules
    }

    /// The model ids of the plan's `llm_instruction` nodes, sorted, without duplicates.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The strongest model tier the plan uses: [`ModelStrength::Basic`] when it uses no
    /// language model.
    pub fn required_strength(&self) -> ModelStrength {
        self.models
            .iter()
            .map(|model| ModelStrength::of_model(model))
            .max()
            .unwrap_or(ModelStrength::Basic)
    }

    /// True when the plan has `llm_instruction` nodes, so evaluation may ask a model.
    pub fn uses_language_model(&self) -> bool {
        !self.llm.is_empty()
    }
}

/// A numeric node: writes its outputs to slots `out..out + outputs`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumericOp {
    pub(crate) kind: NumericKind,
    pub(crate) out: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NumericKind {
    Candles {
        clock: usize,
        field: PriceField,
    },
    Outcome {
        clock: usize,
    },
    Sma {
        input: usize,
        period: usize,
    },
    Ema {
        input: usize,
        period: usize,
    },
    Rsi {
        input: usize,
        period: usize,
    },
    Atr {
        high: usize,
        low: usize,
        close: usize,
        period: usize,
    },
    Macd {
        input: usize,
        fast: usize,
        slow: usize,
        signal: usize,
    },
    Bollinger {
        input: usize,
        period: usize,
        multiplier: f64,
    },
    Returns {
        input: usize,
        period: usize,
    },
    Volatility {
        input: usize,
        period: usize,
    },
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Operand {
    Slot(usize),
    Constant(f64),
}

/// A boolean node: op `i` writes boolean slot `i`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LogicOp {
    Compare {
        op: CompareOp,
        left: usize,
        right: Operand,
    },
    CrossesAbove {
        left: usize,
        right: Operand,
    },
    CrossesBelow {
        left: usize,
        right: Operand,
    },
    And(Vec<usize>),
    Or(Vec<usize>),
    Not(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionOp {
    pub(crate) node: String,
    pub(crate) asset: String,
    pub(crate) kind: ActionKind,
    pub(crate) size: Option<SizeSpec>,
    pub(crate) when: usize,
    pub(crate) risk: RiskSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LlmOp {
    pub(crate) node: String,
    pub(crate) model: String,
    pub(crate) guidance: String,
    pub(crate) allowed_actions: Vec<ActionKind>,
    pub(crate) assets: Vec<String>,
    pub(crate) when: Option<usize>,
    /// (label, numeric slot), sorted by label.
    pub(crate) context: Vec<(String, usize)>,
    pub(crate) risk: RiskSettings,
}
