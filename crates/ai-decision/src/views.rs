//! What the decision service accepts and returns: plain data with serde and OpenAPI schemas.
//! Sizes, prices and costs are decimal strings on the wire; field names are camelCase.

use chrono::{DateTime, Utc};
use clones_market::Side;
use clones_prop_engine::OrderStatus;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a run was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunContext {
    /// For a paid audition's prop account.
    Audition,
    /// For an Arena membership's prop account.
    Arena,
    /// An owner's dry run: decided on current market memory, never executed.
    DryRun,
}

impl RunContext {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RunContext::Audition => "audition",
            RunContext::Arena => "arena",
            RunContext::DryRun => "dry_run",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "audition" => Some(RunContext::Audition),
            "arena" => Some(RunContext::Arena),
            "dry_run" => Some(RunContext::DryRun),
            _ => None,
        }
    }
}

/// Which model adapter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Adapter {
    /// The deterministic rule model (the strategy evaluator); no network.
    Rule,
    /// An OpenAI-compatible chat-completions endpoint.
    Openai,
}

impl Adapter {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Adapter::Rule => "rule",
            Adapter::Openai => "openai",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "rule" => Some(Adapter::Rule),
            "openai" => Some(Adapter::Openai),
            _ => None,
        }
    }
}

/// How a run ended. Named `DecisionRunStatus` in the OpenAPI document, apart from ingestion's
/// run status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DecisionRunStatus)]
pub enum RunStatus {
    /// The model proposed at least one order.
    Decided,
    /// The model proposed nothing to execute (no signal, not enough data, nothing to close).
    Idle,
    /// The run did not ask a model (no active strategy, not entitled, account not active, …);
    /// `reasonCode` says why.
    Skipped,
    /// The model answered something that failed validation; nothing is executed and the raw
    /// output is kept in the artifact.
    InvalidOutput,
    /// The model could not be reached or kept failing (timeouts, 5xx); nothing is executed.
    ModelError,
}

impl RunStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Decided => "decided",
            RunStatus::Idle => "idle",
            RunStatus::Skipped => "skipped",
            RunStatus::InvalidOutput => "invalid_output",
            RunStatus::ModelError => "model_error",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "decided" => Some(RunStatus::Decided),
            "idle" => Some(RunStatus::Idle),
            "skipped" => Some(RunStatus::Skipped),
            "invalid_output" => Some(RunStatus::InvalidOutput),
            "model_error" => Some(RunStatus::ModelError),
            _ => None,
        }
    }
}

/// One decision run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    /// The run id.
    pub id: Uuid,
    /// The clone that decided.
    pub clone_id: Uuid,
    /// The prop account its actions go to (`null` for dry runs).
    pub account_id: Option<Uuid>,
    /// Why the run was made.
    pub context: RunContext,
    /// The audition run or Arena membership served, if any.
    pub reference_id: Option<Uuid>,
    /// The decision moment (the cycle's slot).
    pub slot: DateTime<Utc>,
    /// The strategy version evaluated, if one was active.
    pub strategy_version: Option<i32>,
    /// Its fingerprint.
    pub strategy_fingerprint: Option<String>,
    /// The model that decided (`rule` for the rule model).
    pub model: String,
    /// The adapter used.
    pub adapter: Adapter,
    /// How it ended.
    pub status: RunStatus,
    /// Why it was skipped or failed (`no_active_strategy`, `model_timeout`, …).
    pub reason_code: Option<String>,
    /// Details of the reason.
    pub reason_detail: Option<String>,
    /// When deciding started.
    pub started_at: DateTime<Utc>,
    /// When deciding ended: `startedAt` plus `latencyMs`.
    pub finished_at: DateTime<Utc>,
    /// Wall time spent deciding, in milliseconds.
    pub latency_ms: i64,
}

/// What prop-engine answered for one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    /// The prop order.
    pub prop_order_id: Uuid,
    /// Its status.
    pub order_status: OrderStatus,
    /// The gate or fill refusal code, if any.
    pub rejection_code: Option<String>,
    /// Size filled.
    #[schema(value_type = String)]
    pub filled_size: Decimal,
    /// When prop-engine answered.
    pub executed_at: DateTime<Utc>,
}

/// One proposed action, converted to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    /// `<run id>:<seq>`: the decision action id prop-engine executes at most once.
    pub id: String,
    /// Position in the run.
    pub seq: i32,
    /// The asset symbol.
    pub asset: String,
    /// The instrument key ordered.
    pub instrument: String,
    /// `open_long`, `open_short`, `close` or `target_position`.
    pub kind: String,
    /// The order side.
    pub side: Side,
    /// The order size in units of the asset.
    #[schema(value_type = String)]
    pub size: Decimal,
    /// Whether the order may only reduce the position.
    pub reduce_only: bool,
    /// What was asked for before conversion (`{"percent_equity": "10"}`, `{"notional": "…"}`,
    /// or `null` for `close`).
    #[schema(value_type = Object)]
    pub requested_size: Option<serde_json::Value>,
    /// The mid the size was computed at.
    #[schema(value_type = String)]
    pub reference_price: Decimal,
    /// Risk settings travelling with the action.
    #[schema(value_type = Object)]
    pub risk: serde_json::Value,
    /// The strategy node or model task that proposed it.
    pub source: String,
    /// The model's rationale, if it gave one.
    pub rationale: Option<String>,
    /// What prop-engine answered, once it has.
    pub execution: Option<ExecutionView>,
}

/// The model call behind a run: exact input, raw output, usage and cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactView {
    /// The model id.
    pub model: String,
    /// SHA-256 (hex) of the prompt (for the rule model, of the input packet).
    pub prompt_hash: String,
    /// The context packet the model saw.
    #[schema(value_type = Object)]
    pub input_packet: serde_json::Value,
    /// What the model answered, verbatim (kept for invalid output too).
    pub raw_output: Option<String>,
    /// Time spent asking the model, retries included, in milliseconds.
    pub latency_ms: i64,
    /// Prompt tokens reported by the endpoint.
    pub prompt_tokens: Option<i32>,
    /// Completion tokens reported by the endpoint.
    pub completion_tokens: Option<i32>,
    /// Cost from the configured prices, when the model has one.
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
}

/// A run with its actions, their executions and its artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunDetail {
    /// The run.
    pub run: RunView,
    /// Its actions, by `seq`.
    pub actions: Vec<ActionView>,
    /// Its model artifact (absent for runs skipped before a model was asked).
    pub artifact: Option<ArtifactView>,
}

/// What one delivery of an assignment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionOutcome {
    /// The run (the first one when this delivery repeated an earlier one).
    pub detail: RunDetail,
    /// False when an earlier delivery of the same slot had already recorded the run.
    pub created: bool,
    /// Orders handed to prop-engine by this delivery that it executed for the first time.
    pub orders_created: u32,
    /// Actions whose hand-over failed (retried by the next delivery of the slot).
    pub order_errors: u32,
}

/// Totals of one worker cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CycleStats {
    /// Assignments the roster returned.
    pub assignments: u64,
    /// Runs recorded by this cycle.
    pub runs_created: u64,
    /// Deliveries that found the slot's run already recorded.
    pub runs_repeated: u64,
    /// Recorded runs that proposed orders.
    pub decided: u64,
    /// Recorded runs without orders.
    pub idle: u64,
    /// Recorded skipped runs.
    pub skipped: u64,
    /// Recorded runs with invalid model output.
    pub invalid_output: u64,
    /// Recorded runs whose model failed.
    pub model_error: u64,
    /// Orders prop-engine executed for the first time.
    pub orders_created: u64,
    /// Action hand-overs that failed.
    pub order_errors: u64,
    /// Assignments that failed before a run could be recorded.
    pub failures: u64,
}
