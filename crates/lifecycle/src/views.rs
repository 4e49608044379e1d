//! What the lifecycle service accepts and returns: plain data with serde (camelCase) and
//! OpenAPI schemas. Money and percentages are decimal strings on the wire.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::rules::{Basis, DrawdownMode, FailureRule};
use crate::status::{
    AuditionEventActor, AuditionEventKind, MembershipStatus, RefundStatus, SkipReason,
};

/// A rule set an audition can run under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleSetView {
    /// The code to start an audition with, e.g. `standard`.
    pub code: String,
    /// Whether new auditions may use it.
    pub active: bool,
    /// The rules.
    pub rules: RulesView,
}

/// The rules of an audition (as frozen into a run when it starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RulesView {
    /// The prop account's quote currency.
    pub quote_currency: String,
    /// The prop account's starting balance.
    #[schema(value_type = String)]
    pub starting_balance: Decimal,
    /// Profit needed to pass, in percent of the starting balance (on equity); `null`: no
    /// target, the audition passes when its window ends without a breach.
    #[schema(value_type = Option<String>)]
    pub profit_target_pct: Option<Decimal>,
    /// Largest loss within a trading day, in percent of the starting balance.
    #[schema(value_type = String)]
    pub max_daily_loss_pct: Decimal,
    /// What the daily loss is measured on.
    pub daily_loss_basis: Basis,
    /// Largest total drawdown, in percent of the starting balance.
    #[schema(value_type = String)]
    pub max_drawdown_pct: Decimal,
    /// What the drawdown is measured on.
    pub drawdown_basis: Basis,
    /// Static (from the starting balance) or trailing (from the highest value seen).
    pub drawdown_mode: DrawdownMode,
    /// The local time a trading day starts (`HH:MM:SS`).
    #[schema(value_type = String)]
    pub daily_reset_time: NaiveTime,
    /// The IANA time zone of the reset time.
    pub time_zone: String,
    /// Trading days with at least one fill needed to pass.
    pub min_trading_days: u32,
    /// The window's length in minutes.
    pub max_window_minutes: u32,
    /// Free retries after a failure.
    pub free_retries: u32,
    /// The failure rules after which a free retry is allowed.
    pub retry_on: Vec<FailureRule>,
}

/// A request to start an audition paid by an `audition_fee` purchase.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartAudition {
    /// The caller's verified `audition_fee` purchase for this clone.
    pub purchase_id: Uuid,
    /// The rule set (default `standard`).
    pub rule_set_code: Option<String>,
}

/// An audition's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditionStatus {
    /// Trading and being evaluated.
    Running,
    /// Passed: the clone is in the Promotion Queue.
    Passed,
    /// A rule failed it.
    Failed,
    /// An admin voided it.
    Voided,
}

impl AuditionStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditionStatus::Running => "running",
            AuditionStatus::Passed => "passed",
            AuditionStatus::Failed => "failed",
            AuditionStatus::Voided => "voided",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "running" => Some(AuditionStatus::Running),
            "passed" => Some(AuditionStatus::Passed),
            "failed" => Some(AuditionStatus::Failed),
            "voided" => Some(AuditionStatus::Voided),
            _ => None,
        }
    }
}

/// Where an audition stands against its rules, as of its last evaluated snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditionProgress {
    /// Equity of the last evaluated snapshot (the starting balance before the first).
    #[schema(value_type = String)]
    pub equity: Decimal,
    /// Cash of the last evaluated snapshot.
    #[schema(value_type = String)]
    pub cash: Decimal,
    /// Profit in percent of the starting balance (negative for a loss).
    #[schema(value_type = String)]
    pub profit_pct: Decimal,
    /// The equity that passes the profit target (`null` without a target).
    #[schema(value_type = Option<String>)]
    pub target_equity: Option<Decimal>,
    /// Loss since the start of the current trading day.
    #[schema(value_type = String)]
    pub daily_loss: Decimal,
    /// The daily loss limit as an amount.
    #[schema(value_type = String)]
    pub daily_loss_limit: Decimal,
    /// The daily loss in percent of its limit.
    #[schema(value_type = String)]
    pub daily_loss_used_pct: Decimal,
    /// The drawdown against the static or trailing reference.
    #[schema(value_type = String)]
    pub drawdown: Decimal,
    /// The drawdown limit as an amount.
    #[schema(value_type = String)]
    pub drawdown_limit: Decimal,
    /// The drawdown in percent of its limit.
    #[schema(value_type = String)]
    pub drawdown_used_pct: Decimal,
    /// The highest value seen on the drawdown basis.
    #[schema(value_type = String)]
    pub peak_value: Decimal,
    /// The current trading day (named by the local date it starts on).
    pub trading_day: Option<NaiveDate>,
    /// Trading days with at least one fill so far.
    pub trading_days: u32,
    /// Trading days needed.
    pub min_trading_days: u32,
    /// The last snapshot evaluated.
    pub last_snapshot_at: Option<DateTime<Utc>>,
    /// Seconds until the window ends (zero once it has, or once the audition ended).
    pub seconds_left: i64,
}

/// An audition run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditionView {
    /// The run id.
    pub id: Uuid,
    /// The clone.
    pub clone_id: Uuid,
    /// The `audition_fee` purchase that paid for it.
    pub purchase_id: Uuid,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// The rule set's code.
    pub rule_set_code: String,
    /// The rules as frozen at the start.
    pub rules: RulesView,
    /// The audition's prop account.
    pub prop_account_id: Uuid,
    /// When the window opened.
    pub window_start: DateTime<Utc>,
    /// When it closes.
    pub window_end: DateTime<Utc>,
    /// Status.
    pub status: AuditionStatus,
    /// The rule that failed it.
    pub failure_rule: Option<FailureRule>,
    /// What was observed when it failed.
    pub failure_detail: Option<String>,
    /// Progress against the rules.
    pub progress: AuditionProgress,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The result of starting (or retrying) an audition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartedAudition {
    /// The run.
    pub audition: AuditionView,
    /// False when the same request had already created it.
    pub created: bool,
}

/// One entry of an audition's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditionEvent {
    /// The event id.
    pub id: Uuid,
    /// What happened.
    pub kind: AuditionEventKind,
    /// Who caused it.
    pub actor: AuditionEventActor,
    /// The acting user, when a user acted.
    pub actor_user_id: Option<Uuid>,
    /// Why (admin actions).
    pub reason: Option<String>,
    /// Facts of the event.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An audition with its audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditionDetail {
    /// The run.
    pub audition: AuditionView,
    /// Its events, oldest first.
    pub events: Vec<AuditionEvent>,
    /// Free retries still available to this purchase.
    pub retries_left: u32,
}

/// A refund authorization for an audition fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundAuthorizationView {
    /// Id.
    pub id: Uuid,
    /// The refunded purchase.
    pub purchase_id: Uuid,
    /// The audition it was authorized for.
    pub run_id: Uuid,
    /// The payer.
    pub owner_user_id: Uuid,
    /// The amount, in the token's base units (decimal string), copied from the purchase.
    pub amount: String,
    /// The token.
    pub token: String,
    /// The chain.
    pub chain_id: u64,
    /// Why.
    pub reason: String,
    /// The admin who authorized it.
    pub authorized_by: Uuid,
    /// Where it stands (paying it out is economy's later step).
    pub status: RefundStatus,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A Promotion Queue entry's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    /// Waiting for Arena admission.
    Queued,
    /// Admitted to the Arena.
    Admitted,
    /// Withdrawn from the queue.
    Withdrawn,
}

impl PromotionStatus {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Queued => "queued",
            PromotionStatus::Admitted => "admitted",
            PromotionStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses a database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "queued" => Some(PromotionStatus::Queued),
            "admitted" => Some(PromotionStatus::Admitted),
            "withdrawn" => Some(PromotionStatus::Withdrawn),
            _ => None,
        }
    }
}

/// A clone's Promotion Queue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionEntryView {
    /// Id.
    pub id: Uuid,
    /// The passed audition.
    pub run_id: Uuid,
    /// The clone.
    pub clone_id: Uuid,
    /// Status.
    pub status: PromotionStatus,
    /// Why the last admission attempt skipped it.
    pub last_skip_reason: Option<SkipReason>,
    /// When admission was last attempted.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When it was admitted.
    pub admitted_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// A clone's Arena membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArenaMembershipView {
    /// Id.
    pub id: Uuid,
    /// The clone.
    pub clone_id: Uuid,
    /// The Promotion Queue entry it came from.
    pub entry_id: Uuid,
    /// The Arena prop account.
    pub prop_account_id: Uuid,
    /// Whether it is current.
    pub status: MembershipStatus,
    /// When it joined.
    pub joined_at: DateTime<Utc>,
}

/// Which kind of trading an assignment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TradingContext {
    /// A running audition.
    Audition,
    /// An active Arena membership.
    Arena,
}

/// A clone that should be trading now, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradingAssignment {
    /// The clone.
    pub clone_id: Uuid,
    /// Its owner (the tenant its prop account belongs to).
    pub owner_user_id: Uuid,
    /// The prop account to trade.
    pub account_id: Uuid,
    /// Audition or Arena.
    pub context: TradingContext,
    /// The audition run id or the Arena membership id.
    pub reference_id: Uuid,
}

/// What one evaluation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationReport {
    /// Running auditions evaluated.
    pub evaluated: u64,
    /// Snapshots judged.
    pub snapshots: u64,
    /// Auditions that passed.
    pub passed: u64,
    /// Auditions that failed.
    pub failed: u64,
    /// Auditions whose evaluation failed this time (retried on a later pass).
    pub errors: u64,
}

/// What one Arena admission pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArenaReport {
    /// Queued entries looked at.
    pub examined: u64,
    /// Entries admitted.
    pub admitted: u64,
    /// Entries skipped (their reason is recorded on the entry).
    pub skipped: u64,
    /// Entries whose admission failed this time (retried on a later pass).
    pub errors: u64,
}

/// A clone's product-facing lifecycle state and the facts it is derived from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloneLifecycleState {
    /// The clone.
    pub clone_id: Uuid,
    /// `setup_required`, `configured`, `audition_running`, `audition_failed`,
    /// `competition_eligible`, `competing` or `retired`.
    #[schema(value_type = String)]
    pub display_state: clones_clone_service::DisplayState,
    /// The latest audition, with its progress.
    pub latest_audition: Option<AuditionView>,
    /// The latest Promotion Queue entry.
    pub promotion: Option<PromotionEntryView>,
    /// The Arena membership (the active one, else the latest).
    pub arena: Option<ArenaMembershipView>,
}
