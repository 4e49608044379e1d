//! Entitlements: what a clone may use. Tiers, the effective projection (Starter when no
//! active row), and the checks runtime guards make against it.
//!
//! This module is pure policy; rows are read and written by the repository.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use clones_strategy::ModelStrength;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A capacity tier.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The tier every paid clone starts with.
    Starter,
    /// More assets and stronger models.
    Pro,
    /// The most capacity.
    Elite,
}

impl Tier {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Starter => "starter",
            Tier::Pro => "pro",
            Tier::Elite => "elite",
        }
    }

    /// How many assets a clone of this tier may trade at once.
    pub fn max_active_assets(self) -> u32 {
        match self {
            Tier::Starter => 1,
            Tier::Pro => 5,
            Tier::Elite => 20,
        }
    }

    /// The strongest model a clone of this tier may use.
    pub fn allowed_model_strength(self) -> ModelStrength {
        match self {
            Tier::Starter => ModelStrength::Basic,
            Tier::Pro => ModelStrength::Standard,
            Tier::Elite => ModelStrength::Advanced,
        }
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "starter" => Ok(Tier::Starter),
            "pro" => Ok(Tier::Pro),
            "elite" => Ok(Tier::Elite),
            other => Err(format!("unknown tier `{other}`")),
        }
    }
}

/// Where an entitlement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementSource {
    /// No row: the Starter default.
    Default,
    /// An economy purchase.
    Purchase,
    /// An operator's manual grant.
    Manual,
    /// A debug grant for development.
    Debug,
}

impl EntitlementSource {
    /// The stored form (the default is never stored).
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementSource::Default => "default",
            EntitlementSource::Purchase => "purchase",
            EntitlementSource::Manual => "manual",
            EntitlementSource::Debug => "debug",
        }
    }
}

impl FromStr for EntitlementSource {
    type Err = String;

    /// Parses a stored source; the default is never stored, so `default` is refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "purchase" => Ok(EntitlementSource::Purchase),
            "manual" => Ok(EntitlementSource::Manual),
            "debug" => Ok(EntitlementSource::Debug),
            other => Err(format!("unknown entitlement source `{other}`")),
        }
    }
}

/// Whether a stored entitlement row is in force (subject to its effective and expiry times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitlementStatus {
    /// In force between its effective and expiry times.
    Active,
    /// Withdrawn; the clone falls back to Starter.
    Revoked,
}

impl EntitlementStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementStatus::Active => "active",
            EntitlementStatus::Revoked => "revoked",
        }
    }
}

impl FromStr for EntitlementStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "active" => Ok(EntitlementStatus::Active),
            "revoked" => Ok(EntitlementStatus::Revoked),
            other => Err(format!("unknown entitlement status `{other}`")),
        }
    }
}

/// The entitlement a clone has right now, as runtime guards see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveEntitlement {
    /// The clone.
    pub clone_id: Uuid,
    /// The tier in force.
    pub tier: Tier,
    /// Assets the clone may trade at once.
    pub max_active_assets: u32,
    /// The strongest model allowed.
    #[schema(value_type = String)]
    pub allowed_model_strength: ModelStrength,
    /// Where it came from.
    pub source: EntitlementSource,
    /// The purchase that granted it, if any.
    pub source_purchase_id: Option<Uuid>,
    /// An operator's reference, if any.
    pub source_reference: Option<String>,
    /// When it took effect.
    pub effective_at: Option<DateTime<Utc>>,
    /// When it lapses, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

impl EffectiveEntitlement {
    /// The Starter default for a clone with no active entitlement row.
    pub fn starter_default(clone_id: Uuid) -> Self {
        Self {
            clone_id,
            tier: Tier::Starter,
            max_active_assets: Tier::Starter.max_active_assets(),
            allowed_model_strength: Tier::Starter.allowed_model_strength(),
            source: EntitlementSource::Default,
            source_purchase_id: None,
            source_reference: None,
            effective_at: None,
            expires_at: None,
        }
    }

    /// Whether a model may be used; unknown model ids count as the highest strength.
    pub fn allows_model(&self, model: &str) -> bool {
        ModelStrength::of_model(model) <= self.allowed_model_strength
    }
}

/// A grant of capacity, written through [`crate::provisioning::upsert_entitlement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementGrant {
    /// The clone.
    pub clone_id: Uuid,
    /// The tier granted.
    pub tier: Tier,
    /// Where it comes from (never [`EntitlementSource::Default`]).
    pub source: EntitlementSource,
    /// The purchase, for [`EntitlementSource::Purchase`].
    pub source_purchase_id: Option<Uuid>,
    /// A free-form reference (operator, ticket).
    pub source_reference: Option<String>,
    /// When it lapses, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}
