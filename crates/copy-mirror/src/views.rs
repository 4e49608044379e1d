//! What the copy-trade service takes and returns: serde + utoipa, camelCase, no diesel.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::plan::Sizing;

/// A wallet to mirror, with its policy.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTarget {
    /// The target's wallet (`0x` + 40 hex, any case).
    pub wallet: String,
    /// A name for it.
    pub label: Option<String>,
    /// Mirror only fills at or above this percentile (0-99) of the target's recent fills.
    pub filter_percentile: Option<u8>,
    /// The most USDC one mirror order may use (decimal string; capped at 250).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub max_usdc_per_trade: Decimal,
    /// The largest position in one outcome token, in USDC (capped at 1000).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub max_position_usdc: Option<Decimal>,
    /// `{"mode": "proportional", "ratio": "0.1"}` or `{"mode": "fixed", "usdc": "5"}`.
    #[schema(value_type = Object)]
    pub sizing: Sizing,
}

/// Changes to a target (absent fields stay).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetPatch {
    /// Pause (`false`) or resume (`true`) mirroring.
    pub active: Option<bool>,
    /// A new name.
    pub label: Option<String>,
    /// A new percentile filter (`null` keeps it; see `clearFilter`).
    pub filter_percentile: Option<u8>,
    /// Drop the percentile filter.
    #[serde(default)]
    pub clear_filter: bool,
    /// A new per-trade cap.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub max_usdc_per_trade: Option<Decimal>,
    /// A new position cap.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub max_position_usdc: Option<Decimal>,
    /// New sizing.
    #[schema(value_type = Option<Object>)]
    pub sizing: Option<Sizing>,
}

/// A mirrored wallet.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    /// The row (for update and removal).
    pub id: Uuid,
    /// The wallet's stable id (UUIDv5), the same for every tenant; keys are built from it.
    pub target_id: Uuid,
    /// The wallet, lower-case.
    pub wallet: String,
    /// Its name.
    pub label: Option<String>,
    /// Whether it is mirrored now.
    pub active: bool,
    /// The percentile filter.
    pub filter_percentile: Option<u8>,
    /// The per-trade cap.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub max_usdc_per_trade: Decimal,
    /// The position cap.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub max_position_usdc: Option<Decimal>,
    /// The sizing.
    #[schema(value_type = Object)]
    pub sizing: Sizing,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Where the tenant's mirror orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    /// The tenant's copy-mirror paper account in prop-engine.
    Paper,
    /// The Polymarket CLOB (live money).
    Clob,
}

impl ExecutorKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Paper => "paper",
            ExecutorKind::Clob => "clob",
        }
    }
}

/// The caps a tenant grants its mirror.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantRequest {
    /// The most USDC one order may use (capped at 250).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub per_order_usdc_cap: Decimal,
    /// The most USDC per UTC day (capped at 2500).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub daily_usdc_cap: Decimal,
    /// The most orders per hour (capped at 60).
    pub hourly_fills_cap: u32,
    /// Where orders go; default `paper`.
    pub executor: Option<ExecutorKind>,
}

/// The tenant's grant.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// Per-order cap.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub per_order_usdc_cap: Decimal,
    /// Daily cap.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub daily_usdc_cap: Decimal,
    /// Orders per hour.
    pub hourly_fills_cap: u32,
    /// On: every fill is recorded and skipped; nothing is sent.
    pub kill_switch: bool,
    /// Where orders go.
    pub executor: ExecutorKind,
    /// The paper account (paper executor).
    pub paper_account_id: Option<Uuid>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One observed fill in the tenant's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerView {
    /// The row.
    pub id: Uuid,
    /// The target row.
    pub target: Uuid,
    /// `data-api:<tx>:<asset>:<side>:<ts>`.
    pub fill_id: String,
    /// keccak256(targetId ":" fillId): the client order id.
    pub idempotency_key: String,
    /// What the target did.
    #[schema(value_type = Object)]
    pub fill: serde_json::Value,
    /// The mirror order's side, when one was planned.
    pub side: Option<String>,
    /// Its size.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub size: Option<Decimal>,
    /// Its limit price.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>)]
    pub limit_price: Option<Decimal>,
    /// `pending` (claimed, outcome not known yet), `placed` (resting, nothing filled),
    /// `partially_filled` (part filled, the rest resting), `filled`, `canceled` (part filled,
    /// the rest cancelled), `unfilled` (nothing filled, cancelled), `rejected`, `skipped` or
    /// `error`.
    pub status: String,
    /// The venue's order id.
    pub venue_order_id: Option<String>,
    /// When the fill was seen.
    pub observed_at: DateTime<Utc>,
    /// When the status was last confirmed by the venue.
    pub synced_at: Option<DateTime<Utc>>,
}

/// One decision (exactly one per ledger row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    /// The decision.
    pub id: Uuid,
    /// The ledger row.
    pub ledger_id: Uuid,
    /// The fill's key.
    pub idempotency_key: String,
    /// `placed`, `skipped` or `error`.
    pub outcome: String,
    /// The skip or error code.
    pub reason: Option<String>,
    /// More about it.
    pub detail: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// How current the ledger's view of the venue is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncHealth {
    /// Orders not final yet (pending, placed, partially filled).
    pub open_orders: u64,
    /// Seconds since the oldest of them was last updated; `null` without any.
    pub oldest_unconfirmed_secs: Option<u64>,
    /// The latest venue confirmation of any order.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// When this was read.
    pub checked_at: DateTime<Utc>,
    /// The last cross-check of the tenant's CLOB wallet positions (Data API) against the
    /// ledger; `null` without a CLOB account or before its first check.
    pub positions: Option<PositionsCheckView>,
}

/// The last cross-check of a CLOB wallet's positions, as the Data API reports them, against
/// the ledger's net filled shares of the tenant's CLOB orders. A mismatch is reported, never
/// traded away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionsCheckView {
    /// When it ran.
    pub checked_at: DateTime<Utc>,
    /// Outcome tokens compared (held at the venue or in the ledger).
    pub tokens_checked: u32,
    /// Of them, tokens whose sizes differ by more than 0.01 share.
    pub tokens_mismatched: u32,
    /// The largest absolute difference in shares (decimal string; `0` when all match).
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub largest_difference: Decimal,
    /// The token with the largest difference, when one differs.
    pub largest_difference_token: Option<String>,
}

/// The tenant's CLOB wallet. The key and the API secret and passphrase never leave the
/// platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClobAccountView {
    /// The wallet's address (lower-case `0x` hex): where its USDC and positions are.
    pub address: String,
    /// Whether the CLOB minted its API credentials; until then live orders are not sent
    /// (the mirror derives them on first use).
    pub credentials_ready: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What one positions check pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PositionsReport {
    /// Tenants whose positions were compared.
    pub tenants: usize,
    /// Of them, tenants with at least one mismatched token.
    pub mismatched: usize,
    /// Tenants whose Data API positions could not be read now (retried next pass).
    pub unreachable: usize,
}

/// What one status-sync pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Placed orders read back.
    pub checked: usize,
    /// Of them, orders whose status moved.
    pub changed: usize,
    /// Orders the venue did not know (left as they were).
    pub unknown: usize,
    /// Orders whose venue could not be asked now.
    pub unreachable: usize,
}

/// What one mirror pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Fills examined (per tenant target).
    pub examined: usize,
    /// Already in the ledger (a repeat sighting): no new decision.
    pub duplicates: usize,
    /// Orders placed.
    pub placed: usize,
    /// Fills skipped, with a recorded reason.
    pub skipped: usize,
    /// Orders that ended in an error decision.
    pub errors: usize,
    /// Claimed rows whose outcome is not known yet (reconciled later).
    pub unresolved: usize,
}
