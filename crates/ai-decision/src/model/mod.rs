//! Model adapters: what a decision model is asked and how it answers.
//!
//! Two adapters implement [`DecisionModel`]: the deterministic [`RuleModel`] (the default; the
//! strategy evaluator's actions are its proposal, no network) and [`OpenAiModel`], a client of
//! any OpenAI-compatible chat-completions endpoint whose output is validated by
//! [`validate::parse_output`]. Adapters never touch the database or prop-engine: they turn a
//! [`ModelInput`] into a [`ModelOutcome`], which the service records and executes.

mod openai;
mod packet;
mod rule;
pub mod validate;

use async_trait::async_trait;
use clones_strategy::{ActionKind, ContextValue, Evaluation, RiskSettings, SizeSpec};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use openai::{ModelPrice, OpenAiModel, OpenAiSettings, parse_prices};
pub use packet::{
    ContextPacket, PacketAccount, PacketAsset, PacketBar, PacketSeries, PacketStrategy,
};
pub use rule::RuleModel;

use crate::views::Adapter;

/// One question for a language model: choose among `allowed_actions` on `assets`, following
/// `guidance`. Built from the strategy's `llm_instruction` requests, or, when the clone's
/// model is not `rule`, one `strategy` task over every traded asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task id the model must name (the `llm_instruction` node id, or `strategy`).
    pub id: String,
    /// The user's guidance, verbatim.
    pub guidance: String,
    /// The actions the model may choose.
    pub allowed_actions: Vec<ActionKind>,
    /// The assets it may act on.
    pub assets: Vec<String>,
    /// Labelled indicator values wired into the instruction.
    pub context: Vec<ContextValue>,
    /// Risk settings travelling with every action of this task.
    pub risk: RiskSettings,
}

impl Task {
    /// The task as the model sees it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "guidance": self.guidance,
            "allowedActions": self.allowed_actions.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
            "assets": self.assets,
            "context": self.context.iter().map(|value| json!({
                "label": value.label,
                "value": value.value.map(|v| v.normalize().to_string()),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The largest sizes a model may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeBounds {
    /// Largest `percent_equity` (absolute value for `target_position`).
    pub max_percent_equity: Decimal,
    /// Largest `notional` (absolute value for `target_position`).
    pub max_notional: Decimal,
    /// Most actions in one answer.
    pub max_actions: usize,
}

/// Everything a model is given for one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// The model id to ask (`rule` for the rule model).
    pub model: String,
    /// The context packet: account, positions, mids and candles per asset.
    pub packet: ContextPacket,
    /// The rule model's evaluation of the compiled plan on the same data.
    pub evaluation: Evaluation,
    /// The questions for a language model (empty for the rule model).
    pub tasks: Vec<Task>,
    /// Size limits for model-chosen actions.
    pub bounds: SizeBounds,
}

/// One action a model proposes, before it is sized into an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The strategy node or task that proposed it.
    pub source: String,
    /// The asset symbol.
    pub asset: String,
    /// What to do.
    pub kind: ActionKind,
    /// How much (`None` for `close`).
    pub size: Option<SizeSpec>,
    /// Risk settings travelling with it.
    pub risk: RiskSettings,
    /// The model's reason, if it gave one.
    pub rationale: Option<String>,
}

impl Proposal {
    /// The order actions the rule model's evaluation proposes, as they are.
    pub fn from_evaluation(evaluation: &Evaluation) -> Vec<Proposal> {
        evaluation
            .actions
            .iter()
            .map(|action| Proposal {
                source: action.node.clone(),
                asset: action.asset.clone(),
                kind: action.kind,
                size: action.size,
                risk: action.risk,
                rationale: None,
            })
            .collect()
    }
}

/// The audit of one model call, recorded as the run's artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactDraft {
    /// The model id.
    pub model: String,
    /// SHA-256 (hex) of the prompt, or of the packet for the rule model.
    pub prompt_hash: String,
    /// The input packet.
    pub input_packet: Value,
    /// The raw output, verbatim.
    pub raw_output: Option<String>,
    /// Time spent, retries included.
    pub latency_ms: i64,
    /// Prompt tokens, when reported.
    pub prompt_tokens: Option<i32>,
    /// Completion tokens, when reported.
    pub completion_tokens: Option<i32>,
    /// Cost at the configured prices, when known.
    pub cost: Option<Decimal>,
}

/// How a model call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelOutcome {
    /// A valid answer (possibly empty).
    Proposed {
        /// The proposals, in the model's order.
        proposals: Vec<Proposal>,
        /// The call's audit.
        artifact: ArtifactDraft,
    },
    /// An answer that failed validation; nothing is executed.
    Invalid {
        /// Why (`invalid_json`, `unknown_asset`, `size_out_of_bounds`, …).
        code: String,
        /// Details.
        detail: String,
        /// The call's audit, raw output included.
        artifact: ArtifactDraft,
    },
    /// No usable answer (timeout, HTTP error after retries, unreachable endpoint).
    Failed {
        /// Why (`model_timeout`, `model_http_error`, `model_unreachable`, …).
        code: String,
        /// Details.
        detail: String,
        /// The call's audit.
        artifact: ArtifactDraft,
    },
}

/// A decision model adapter.
#[async_trait]
pub trait DecisionModel: Send + Sync {
    /// Which adapter this is (recorded on the run).
    fn adapter(&self) -> Adapter;

    /// Decides. Never fails: every failure is a [`ModelOutcome`] to record.
    async fn decide(&self, input: &ModelInput) -> ModelOutcome;
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
