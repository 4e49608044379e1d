//! What the marketplace's callers send and read (camelCase on the wire).

use chrono::{DateTime, Utc};
use clones_backtest::Metrics;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::status::StrategyStatus;

/// An upload.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewStrategy {
    /// 1 to 120 characters.
    pub name: String,
    /// At most 2 000 characters.
    #[serde(default)]
    pub description: String,
    /// The graph, in the project's strategy format.
    #[schema(value_type = Object)]
    pub graph: serde_json::Value,
    /// A strategy this one derives from (a fork): its uploader shares royalties under the
    /// `lineage_split` policy.
    pub parent_id: Option<Uuid>,
}

/// Filters of the list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StrategyFilter {
    /// Only this status.
    pub status: Option<StrategyStatus>,
    /// Only this asset type (`perp`, `spot`, `outcome`, `mixed`).
    pub asset_type: Option<String>,
    /// Only the caller's own uploads.
    #[serde(default)]
    pub mine: bool,
    /// `newest` (the default: by creation, newest first) or `score` (highest score first,
    /// strategies without a score last, the id breaking ties).
    #[serde(default)]
    pub sort: StrategySort,
}

/// The order of the strategy list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrategySort {
    /// Newest first by (creation time, id).
    #[default]
    Newest,
    /// Highest score first, unscored last, then by id.
    Score,
}

/// A clone's adoption of a strategy.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Adoption {
    /// One of the caller's clones: the strategy becomes its draft.
    pub clone_id: Uuid,
}

/// A strategy in a list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrategySummary {
    /// The id.
    pub id: Uuid,
    /// The name.
    pub name: String,
    /// The original uploader; `null` for the strategies the project ships.
    pub uploader_id: Option<Uuid>,
    /// The status.
    pub status: StrategyStatus,
    /// `perp`, `spot`, `outcome` or `mixed`.
    pub asset_type: String,
    /// Sharpe × (1 − drawdown), from the latest full backtest.
    pub score: Option<f64>,
    /// In [0, 1], for candidates and later.
    pub robustness: Option<f64>,
    /// 0 for an upload or a shipped strategy; a mutation child is its parent's plus one.
    pub generation: i32,
    /// `upload`, `seed` or `mutation`.
    pub origin: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// The status before (`null` at creation).
    pub from: Option<StrategyStatus>,
    /// The status after.
    pub to: StrategyStatus,
    /// What happened (`upload`, `seed`, `mutation`, `duplicate`, `reject`, `pass`, `promote`,
    /// `discard`, `reinstate`).
    pub event: String,
    /// Why.
    pub reason: String,
    /// The administrator, for a review.
    pub actor_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A parent-child link.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineageLink {
    /// The parent.
    pub parent_id: Uuid,
    /// The child.
    pub child_id: Uuid,
    /// The operator (`parameter_perturbation`, …, or `fork`).
    pub mutation_type: String,
    /// What changed.
    pub mutation_detail: String,
    /// The child's generation.
    pub generation: i32,
    /// Percent of a royalty passed from the child's uploader to the parent's (`lineage_split`).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub royalty_percent_parent: Decimal,
    /// Percent kept by the child's uploader.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub royalty_percent_child: Decimal,
}

/// A strategy with everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrategyDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: StrategySummary,
    /// The description.
    pub description: String,
    /// The graph.
    #[schema(value_type = Object)]
    pub graph: serde_json::Value,
    /// The canonical fingerprint (hex).
    pub fingerprint: String,
    /// For a duplicate: the strategy it duplicates.
    pub duplicate_of: Option<Uuid>,
    /// The latest full backtest on the reference data, when there is one.
    pub metrics: Option<Metrics>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
    /// The links from this strategy up to its root, nearest first.
    pub ancestors: Vec<LineageLink>,
    /// The links below it, breadth first (at most 200).
    pub descendants: Vec<LineageLink>,
}

/// An administrator's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Refuse it.
    Reject,
    /// Put a rejected or discarded strategy back at `experiment`.
    Reinstate,
    /// Take it out of the pipeline.
    Discard,
}

/// The body of a review.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Review {
    /// What to do.
    pub action: ReviewAction,
    /// Why (1 to 500 characters), kept in the history.
    pub reason: String,
}

/// What one monitoring pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorReport {
    /// Pending strategies checked.
    pub checked: usize,
    /// Of them, exact or behavioural duplicates.
    pub duplicates: usize,
    /// Of them, rejected by the sanity check.
    pub rejected: usize,
    /// Of them, passed to `experiment`.
    pub passed: usize,
    /// Candidates whose robustness was scored.
    pub scored: usize,
    /// Of them, promoted to `proposable`.
    pub promoted: usize,
}

/// What one evolution pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvolveReport {
    /// Strategies backtested in full.
    pub evaluated: usize,
    /// Promoted to `candidate`.
    pub promoted: usize,
    /// Discarded.
    pub discarded: usize,
    /// Mutation children created (they start at `pending_review`).
    pub children: usize,
}
