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
    /// What the owner's wallet signs and sends for the pending signature step (the token or
    /// the pool creation); absent in any other status, or when the chain is not configured.
    /// Submit the sent transaction's hash to `POST …/deployment/transactions`.
    pub transaction: Option<TransactionRequestView>,
}

/// An unsigned transaction for the owner's wallet: a call of the deployment factory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRequestView {
    /// The step it performs.
    pub step: DeploymentStep,
    /// The factory contract (EIP-55).
    pub to: String,
    /// The ABI-encoded call (`createToken` or `createPool`), 0x-prefixed hex.
    pub data: String,
    /// The native value to send, in wei (always `"0"`).
    pub value: String,
    /// The chain to send it on.
    pub chain_id: u64,
}

/// The on-chain step a transaction performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStep {
    /// Creating the clone's token (`pending_token_signature`).
    Token,
    /// Creating the clone's training pool (`pending_pool_signature`).
    Pool,
}

impl DeploymentStep {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStep::Token => "token",
            DeploymentStep::Pool => "pool",
        }
    }

    /// The step of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "token" => Some(DeploymentStep::Token),
            "pool" => Some(DeploymentStep::Pool),
            _ => None,
        }
    }
}

/// Where a submitted transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// Not yet settled: unmined or under-confirmed.
    Pending,
    /// The factory's event matched; the deployment advanced.
    Confirmed,
    /// Reverted or the wrong event; the deployment failed.
    Failed,
    /// The deployment had left the step when the receipt was seen; nothing changed.
    Superseded,
}

impl TransactionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "pending",
            TransactionStatus::Confirmed => "confirmed",
            TransactionStatus::Failed => "failed",
            TransactionStatus::Superseded => "superseded",
        }
    }

    /// The status of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(TransactionStatus::Pending),
            "confirmed" => Some(TransactionStatus::Confirmed),
            "failed" => Some(TransactionStatus::Failed),
            "superseded" => Some(TransactionStatus::Superseded),
            _ => None,
        }
    }
}

/// A transaction the owner submitted for a pending signature step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentTransactionView {
    /// The submission's id.
    pub id: Uuid,
    /// The step it was submitted for.
    pub step: DeploymentStep,
    /// The transaction hash (lower-case hex).
    pub tx_hash: String,
    /// Where it stands.
    pub status: TransactionStatus,
    /// Confirmations at the last check.
    pub confirmations: i64,
    /// The created token or pool (EIP-55), once confirmed.
    pub contract_address: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it was settled.
    pub settled_at: Option<DateTime<Utc>>,
}

/// The hash of a transaction the owner's wallet sent for a pending signature step.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionSubmission {
    /// The transaction's hash: `0x` followed by 64 hex digits.
    pub tx_hash: String,
}

/// What one confirmation pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfirmReport {
    /// Transactions looked at.
    pub checked: u64,
    /// Confirmed, advancing their deployment.
    pub confirmed: u64,
    /// Failed, failing their deployment.
    pub failed: u64,
    /// Still pending.
    pub pending: u64,
    /// Settled without a change (the deployment had left the step, or another pass settled it).
    pub superseded: u64,
    /// Not checked because the chain or the database failed; retried after their lease.
    pub errors: u64,
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
