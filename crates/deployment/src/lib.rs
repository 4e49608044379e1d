//! Clone deployment: the lifecycle that takes a clone from a draft to a deployed token and
//! training pool on chain, and out of service again.
//!
//! - [`machine`] is the pure state machine: [`transition`] decides every status change from the
//!   current status, the [`DeploymentContext`] its guards read, and a [`DeploymentEvent`];
//!   anything else is refused with a stable code (HTTP 409). It takes no database, clock or IO.
//!   The chain is EVM; the machine is chain-agnostic.
//! - [`PgDeploymentService`] owns `clone_deployments` (one per clone; its status is the single
//!   source of truth, written only with what [`transition`] decided) and the append-only
//!   `clone_deployment_history`, both under per-tenant row-level security. When the pool step
//!   first starts it generates the pool's deposit key and stores it sealed with
//!   `clones-secrets` ([`DEPOSIT_KEY_COLUMN`]).
//!
//! - On chain, the owner's wallet signs what the views return ([`TransactionRequestView`]: a
//!   call of the `CloneTokenFactory`, see [`contract`]), submits the hash
//!   ([`DeploymentService::submit_transaction`]), and [`DeploymentService::confirm_pending`]
//!   (the deployment worker) reads the receipts through [`chain`] and advances the machine.
//!
//! Ownership comes from clone-service: another user's clone is `clone_not_found` (404).

pub mod chain;
mod confirm;
pub mod contract;
mod error;
pub mod machine;
mod models;
mod repo;
mod service;
pub mod settings;
mod signing;
mod views;

use alloy::signers::local::PrivateKeySigner;
use async_trait::async_trait;
use clones_kernel::page::{Page, PageRequest};
use clones_secrets::{LegacyPlaintext, SecretColumn};
use uuid::Uuid;

pub use error::DeploymentError;
pub use machine::{
    CANCELLED, DeploymentContext, DeploymentEvent, DeploymentStatus, EventKind, Transition,
    TransitionError, transition,
};
pub use service::PgDeploymentService;
pub use settings::{ChainSettings, DeploymentArgs};
pub use views::{
    Actor, ChainOutcome, ConfirmReport, DeploymentHistoryEntry, DeploymentStep,
    DeploymentTransactionView, DeploymentView, OwnerAction, TransactionRequestView,
    TransactionStatus, TransactionSubmission,
};

/// The pool deposit key column: 32-byte secp256k1 keys sealed for (`clone_deployments`,
/// `deposit_key`, row id, owner). Encrypted from its first row, so a plaintext is refused.
pub const DEPOSIT_KEY_COLUMN: SecretColumn = SecretColumn {
    table: "clone_deployments",
    column: "deposit_key",
    id_column: "id",
    tenant_column: Some("owner_user_id"),
    legacy: LegacyPlaintext::Refuse,
};

/// Clone deployments for owners and for the chain confirmation flow.
#[async_trait]
pub trait DeploymentService: Send + Sync {
    /// The owner's clone's deployment (a `draft` without timestamps when never started).
    ///
    /// # Errors
    /// `clone_not_found` for a clone that is not the caller's.
    async fn deployment(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<DeploymentView, DeploymentError>;

    /// The deployment's transitions, oldest first.
    ///
    /// # Errors
    /// `clone_not_found`; `invalid_page` for a cursor not from this list.
    async fn history(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<DeploymentHistoryEntry>, DeploymentError>;

    /// Applies an owner's action through the state machine and records it.
    ///
    /// # Errors
    /// `clone_not_found`; `deployment_transition_not_allowed` or `deployment_guard_failed`
    /// (409) when the machine refuses; `secrets_not_configured` when the pool step needs a
    /// deposit key and no keyring is configured.
    async fn act(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        action: OwnerAction,
    ) -> Result<DeploymentView, DeploymentError>;

    /// Applies what the chain reported about a pending step (the confirmation flow; across
    /// tenants, recorded as the system).
    ///
    /// # Errors
    /// `deployment_not_found`; the machine's refusals; `invalid_input` for an empty error.
    async fn record_outcome(
        &self,
        clone_id: Uuid,
        outcome: ChainOutcome,
    ) -> Result<DeploymentView, DeploymentError>;

    /// Records the hash of a transaction the owner's wallet sent for the pending signature
    /// step; the confirmation check settles it. Submitting a hash again returns the same
    /// submission.
    ///
    /// # Errors
    /// `clone_not_found`; `invalid_input` for a malformed hash;
    /// `deployment_not_awaiting_signature` (409) outside `pending_token_signature` and
    /// `pending_pool_signature`.
    async fn submit_transaction(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        tx_hash: &str,
    ) -> Result<DeploymentTransactionView, DeploymentError>;

    /// Checks up to `limit` due submitted transactions against the chain (across tenants, as
    /// the system): a confirmed factory event for the expected clone, owner wallet, token and
    /// deposit address advances the deployment; a reverted transaction or the wrong event
    /// fails it; the transaction's settlement and the transition share one database
    /// transaction, so a confirmation seen twice advances once.
    ///
    /// # Errors
    /// `deployment_chain_not_configured`; a database failure while leasing.
    async fn confirm_pending(&self, limit: u32) -> Result<ConfirmReport, DeploymentError>;

    /// The pool's deposit key as a signer, migrating its envelope to the current key version
    /// when it is older; `None` before the pool step started.
    ///
    /// # Errors
    /// `secrets_not_configured`; an internal error when the key does not decrypt or does not
    /// match the stored deposit address.
    async fn pool_deposit_signer(
        &self,
        clone_id: Uuid,
    ) -> Result<Option<PrivateKeySigner>, DeploymentError>;
}
