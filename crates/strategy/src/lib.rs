//! Strategies: what a clone should do, as data.
//!
//! This crate owns the versioned JSON format of a clone's strategy — a directed acyclic graph
//! of typed nodes (market inputs, indicators, logic, actions, risk rules, model instructions)
//! joined by edges between named, typed ports — and everything that is pure computation on it:
//!
//! - [`parse`]: JSON text to a [`StrategyGraph`], reporting every structural problem;
//! - [`compile()`]: checks a graph against the format's rules and the caller's [`Constraints`]
//!   (trade universe, asset count, model tier) and produces a [`CompiledPlan`], or every
//!   [`CompileError`] found, each with a stable [`ErrorCode`];
//! - [`evaluate`] and [`replay`]: the deterministic rule model, which turns a plan and market
//!   data into proposed actions and model requests;
//! - [`default_draft_graph`]: the strategy every new clone starts with;
//! - [`canonical_json`] and [`fingerprint`]: an id- and order-independent form of a graph and
//!   its SHA3-256 digest, for duplicate detection;
//! - [`ModelStrength`]: model tiers and the catalog of known model ids, for entitlement checks.
//!
//! It must not do I/O, touch a database, spawn tasks or know about HTTP. Money enters and
//! leaves as `rust_decimal::Decimal`; `f64` is used only inside the indicator math. Nothing
//! here iterates a hash map, so equal inputs always give equal outputs. The format is
//! documented in `docs/strategy-format.md`.

mod canonical;
mod compile;
mod draft;
mod error;
mod eval;
mod indicators;
mod json;
pub mod limits;
mod market;
mod model;
mod parse;
mod plan;
pub mod sizing;
mod strength;
#[cfg(test)]
mod test_support;

pub use canonical::{MAX_CANONICAL_LEAVES, canonical_json, fingerprint, fingerprint_hex, to_hex};
pub use compile::{Constraints, compile, compile_json, validate};
pub use draft::default_draft_graph;
pub use error::{CompileError, CompileErrors, ErrorCode};
pub use eval::{
    CONTEXT_DECIMAL_PLACES, ContextValue, DataShortfall, Evaluation, LlmRequest, ProposedAction,
    Replay, ReplayError, ReplayStep, evaluate, evaluate_history, replay,
};
pub use market::{Bar, CandleKey, MarketWindow, OutcomeKey, OutcomePoint, SeriesKey};
pub use model::{
    ActionKind, CompareOp, Edge, FORMAT_VERSION, InputPort, MAX_FAN_IN, MAX_RISK_TARGETS,
    NODE_KINDS, Node, NodeKind, OutputPort, PortType, PriceField, STRATEGY_TIMEFRAMES, SizeSpec,
    StrategyGraph,
};
pub use parse::{parse, parse_value};
pub use plan::{CompiledPlan, DataRequirement, RiskKind, RiskRule, RiskSettings};
pub use strength::{ModelStrength, RULE_MODEL_ID};
