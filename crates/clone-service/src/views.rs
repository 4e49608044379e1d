//! What clone-service returns to its callers (and, through the web layer, to clients).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::display::DisplayState;
use crate::entitlement::EffectiveEntitlement;
use crate::status::{ModerationAction, ModerationActor, ProfileStatus, ReportStatus};

/// A clone as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloneView {
    /// The clone id.
    pub id: Uuid,
    /// The owner's private name for it.
    pub display_name: String,
    /// The model it decides with (`rule` for the deterministic rule model).
    pub model: String,
    /// Its progress, derived from facts.
    pub display_state: DisplayState,
    /// The active published strategy version, if any.
    pub active_version: Option<i32>,
    /// What it may use.
    pub entitlement: EffectiveEntitlement,
    /// When it was created (by a paid purchase).
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Changes to a clone; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClonePatch {
    /// A new private name (1-80 characters).
    pub display_name: Option<String>,
    /// A new model id; must be allowed by the entitlement.
    pub model: Option<String>,
}

/// The editable strategy draft.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftView {
    /// The clone.
    pub clone_id: Uuid,
    /// The strategy graph (see docs/strategy-format.md).
    #[schema(value_type = Object)]
    pub graph: serde_json::Value,
    /// True when no draft was saved yet and this is the default graph.
    pub is_default: bool,
    /// When it was last saved.
    pub updated_at: Option<DateTime<Utc>>,
    /// The marketplace strategy this draft was adopted from; `null` for a graph written or
    /// edited by hand (saving the draft clears it).
    pub marketplace_strategy_id: Option<Uuid>,
}

/// A published, immutable strategy version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// 1, 2, 3… per clone, without gaps.
    pub version: i32,
    /// SHA3-256 of the graph's canonical form (hex).
    pub fingerprint: String,
    /// Whether runtime modules use this version.
    pub is_active: bool,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// The graph.
    #[schema(value_type = Object)]
    pub graph: serde_json::Value,
    /// The marketplace strategy the published draft was adopted from, if it was.
    pub marketplace_strategy_id: Option<Uuid>,
}

/// How a clone picks its active assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectionMode {
    /// Trade every asset in the universe (up to the limit).
    AllInUniverse,
    /// Trade the universe's most traded assets (up to the limit).
    TopByVolume,
}

impl SelectionMode {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            SelectionMode::AllInUniverse => "all_in_universe",
            SelectionMode::TopByVolume => "top_by_volume",
        }
    }
}

impl FromStr for SelectionMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "all_in_universe" => Ok(SelectionMode::AllInUniverse),
            "top_by_volume" => Ok(SelectionMode::TopByVolume),
            other => Err(format!("unknown selection mode `{other}`")),
        }
    }
}

/// What runtime modules need to run a clone, read in one transaction.
#[derive(Debug, Clone)]
pub struct CloneRuntime {
    /// The clone.
    pub clone_id: Uuid,
    /// Its model id.
    pub model: String,
    /// The active published version, if any.
    pub active_version: Option<VersionView>,
    /// The entitlement in force now.
    pub entitlement: EffectiveEntitlement,
    /// The trade universe and selection rule (capped at the entitlement).
    pub trade_universe: TradeUniverse,
}

/// The assets a clone may trade and how it picks among them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TradeUniverse {
    /// Asset symbols (e.g. `BTC`, `ETH`); empty means "any asset the strategy names".
    pub assets: Vec<String>,
    /// How active assets are picked.
    pub selection_mode: SelectionMode,
    /// At most this many active assets (never above the entitlement).
    pub max_assets: u32,
}

/// The owner's public profile submission.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileSubmission {
    /// The public name (1-80 characters).
    pub display_name: String,
    /// 3-32 of `[a-z0-9_]`, unique among live profiles.
    pub username: String,
    /// Up to 1000 characters.
    #[serde(default)]
    pub bio: String,
    /// An `http`/`https` image URL.
    pub avatar_url: Option<String>,
}

/// A public profile as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    /// The clone.
    pub clone_id: Uuid,
    /// The public name.
    pub display_name: String,
    /// The username.
    pub username: String,
    /// The bio.
    pub bio: String,
    /// The avatar.
    pub avatar_url: Option<String>,
    /// Whether it is visible.
    pub status: ProfileStatus,
    /// When it was first submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A public profile as anyone sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    /// The clone.
    pub clone_id: Uuid,
    /// The public name.
    pub display_name: String,
    /// The username.
    pub username: String,
    /// The bio.
    pub bio: String,
    /// The avatar.
    pub avatar_url: Option<String>,
}

/// Why a profile is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    /// Spam or advertising.
    Spam,
    /// Pretends to be someone else.
    Impersonation,
    /// Offensive content.
    Offensive,
    /// Misleading claims.
    Misleading,
    /// Anything else (explain in details).
    Other,
}

impl ReportReason {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Impersonation => "impersonation",
            ReportReason::Offensive => "offensive",
            ReportReason::Misleading => "misleading",
            ReportReason::Other => "other",
        }
    }
}

impl FromStr for ReportReason {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "spam" => Ok(ReportReason::Spam),
            "impersonation" => Ok(ReportReason::Impersonation),
            "offensive" => Ok(ReportReason::Offensive),
            "misleading" => Ok(ReportReason::Misleading),
            "other" => Ok(ReportReason::Other),
            other => Err(format!("unknown report reason `{other}`")),
        }
    }
}

/// A report against a public profile.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportSubmission {
    /// Why.
    pub reason: ReportReason,
    /// Up to 2000 characters.
    #[serde(default)]
    pub details: String,
}

/// A report as its reporter or an admin sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    /// The report id.
    pub id: Uuid,
    /// The reported clone.
    pub clone_id: Uuid,
    /// Who reported it.
    pub reporter_user_id: Uuid,
    /// Why.
    pub reason: ReportReason,
    /// Details.
    pub details: String,
    /// Where it stands.
    pub status: ReportStatus,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The admin's note.
    pub resolution_note: Option<String>,
}

/// An admin's decision on a report.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportResolution {
    /// `dismiss` or `action`.
    pub decision: ReportDecision,
    /// Retire the clone as part of actioning the report.
    #[serde(default)]
    pub retire: bool,
    /// Why (required, 1-2000 characters).
    pub note: String,
}

/// What to do with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportDecision {
    /// No action needed.
    Dismiss,
    /// The report was right.
    Action,
}

/// A moderation decision's reason.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModerationReason {
    /// Why (required, 1-2000 characters).
    pub reason: String,
}

/// One entry of a clone's moderation history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModerationEntry {
    /// What happened.
    pub action: ModerationAction,
    /// Who did it.
    pub actor_kind: ModerationActor,
    /// Who did it, when a user did.
    pub actor_user_id: Option<Uuid>,
    /// The report it resolved, if any.
    pub report_id: Option<Uuid>,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}
