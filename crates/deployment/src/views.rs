//! What the deployment service returns: serde + utoipa, camelCase, no diesel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::machine::{DeploymentStatus, EventKind};

/// A clone's deployment. A clone that never started one is a `draft` without timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView {
    /// The clone.
    pub clone_id: Uuid,
    /// Where the deployment stands; the single source of truth.
    pub status: DeploymentStatus,
    /// The token contract (EIP-55), once created.
    pub token_address: Option<String>,
    /// The training pool contract (EIP-55), once created.
    pub pool_address: Option<String>,
    /// The pool's deposit address (EIP-55), generated when the pool step first starts; its
    /// private key is held encrypted and never returned.
    pub deposit_address: Option<String>,
    /// Why the last step failed, while the deployment is `failed`.
    pub last_error: Option<String>,
    /// When the deployment was first started.
    pub created_at: Option<DateTime<Utc>>,
    /// When its status last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Who caused a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeploymentActor)]
pub enum Actor {
    /// The clone's owner.
    Owner,
    /// The platform (a chain confirmation).
    System,
}

impl Actor {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Owner => "owner",
            Actor::System => "system",
        }
    }
}

/// One transition of a deployment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentHistoryEntry {
    /// The entry's id.
    pub id: Uuid,
    /// Its place in the history, from 1.
    pub seq: i32,
    /// Who caused it.
    pub actor: Actor,
    /// The user, when the owner did.
    pub actor_user_id: Option<Uuid>,
    /// The event.
    pub event: EventKind,
    /// The status before.
    pub from: DeploymentStatus,
    /// The status after.
    pub to: DeploymentStatus,
    /// The error a failure recorded.
    pub error: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What an owner can ask of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeploymentAction)]
pub enum OwnerAction {
    /// Start deploying a draft (the token step).
    Initiate,
    /// Start the pool step once the token exists.
    InitiatePool,
    /// Abandon the step in progress.
    Cancel,
    /// Retry a failed deployment from the step its token allows.
    Retry,
    /// Take a deployed clone out of service.
    Deactivate,
    /// Archive a draft, failed or deactivated deployment.
    Archive,
}

/// What the chain reported about a pending step (the confirmation worker's input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOutcome {
    /// The token creation was confirmed.
    TokenCreated {
        /// The token contract.
        token_address: alloy::primitives::Address,
    },
    /// The pool creation was confirmed.
    PoolCreated {
        /// The pool contract.
        pool_address: alloy::primitives::Address,
    },
    /// The pending step failed (reverted, dropped, expired).
    Failed {
        /// Why.
        error: String,
    },
}
