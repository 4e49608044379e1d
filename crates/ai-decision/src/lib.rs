//! AI decision: what a clone proposes to trade, and the audit of how it decided.
//!
//! This crate owns decision runs, the actions they propose, what prop-engine answered for each
//! action, and the model artifacts behind each run (tables `decision_runs`,
//! `decision_actions`, `decision_action_executions`, `decision_artifacts`, all append-only).
//! Each cycle, for every [`Assignment`] a [`TradingRoster`] returns, [`PgDecisionService`]
//! reads the clone, its active strategy version and its entitlement through clone-service,
//! compiles the strategy under that entitlement, builds a context packet from market memory
//! and the prop account, asks a [`DecisionModel`] (the deterministic [`RuleModel`] by default,
//! or an OpenAI-compatible endpoint through [`OpenAiModel`]), validates and sizes its proposals,
//! records the run whole, and hands each action to `PropService::place_order` with the action
//! id as idempotency key.
//!
//! AI decides, prop-engine executes: this crate never writes prop, clone, market or lifecycle
//! tables, never opens a market-data source, and knows nothing of HTTP.

mod error;
pub mod model;
mod models;
mod repo;
pub mod roster;
mod service;
pub mod settings;
pub mod views;

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

pub use error::DecisionError;
pub use model::{
    ArtifactDraft, DecisionModel, ModelInput, ModelOutcome, ModelPrice, OpenAiModel,
    OpenAiSettings, Proposal, RuleModel, SizeBounds, Task, parse_prices,
};
pub use roster::{Assignment, AssignmentContext, FixedRoster, LifecycleRoster, TradingRoster};
pub use service::{DecisionSettings, PgDecisionService};
pub use views::*;

/// Owner reads of decision runs and dry runs. Each method is one HTTP route:
///
/// | method | route |
/// |---|---|
/// | [`DecisionService::runs`] | `GET /api/v1/clones/{id}/decision-runs` |
/// | [`DecisionService::run`] | `GET /api/v1/clones/{id}/decision-runs/{runId}` |
/// | [`DecisionService::dry_run`] | `POST /api/v1/clones/{id}/decision-dry-run` |
///
/// Someone else's clone answers [`DecisionError::CloneNotFound`], exactly as a missing one.
#[async_trait]
pub trait DecisionService: Send + Sync {
    /// The clone's runs, newest first by (start time, id), one page at a time.
    ///
    /// # Errors
    /// `clone_not_found`, database failures.
    async fn runs(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<RunView>, DecisionError>;

    /// One run with its actions, their executions and its artifact.
    ///
    /// # Errors
    /// `clone_not_found`, `decision_run_not_found`, database failures.
    async fn run(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        run_id: Uuid,
    ) -> Result<RunDetail, DecisionError>;

    /// Decides now on current market memory without executing anything, and records the run
    /// with context `dry_run` (no account). Sizes use the clone's newest active audition or
    /// Arena account when it has one, else a nominal equity.
    ///
    /// # Errors
    /// `clone_not_found`, market or database failures.
    async fn dry_run(&self, owner: Uuid, clone_id: Uuid) -> Result<RunDetail, DecisionError>;
}
