//! The deployment state machine: every status a clone's deployment can be in, every event, and
//! the one pure function that decides a transition. No database, no clock, no IO: the service
//! loads a deployment, asks [`transition`], and stores the answer with its history row in one
//! transaction, so the status column is the single source of truth and no other code moves it.
//!
//! | from | event | to |
//! |---|---|---|
//! | draft | initiate_deployment | pending_token_signature |
//! | draft | archive | archived |
//! | pending_token_signature | token_creation_success | token_created (guard: no token yet) |
//! | pending_token_signature | fail | failed |
//! | pending_token_signature | cancel | draft |
//! | token_created | initiate_pool_creation | pending_pool_signature (guard: a token) |
//! | token_created | cancel | failed |
//! | pending_pool_signature | pool_creation_success | deployed (guard: a token, no pool yet) |
//! | pending_pool_signature | fail, cancel | failed |
//! | deployed | deactivate | deactivated |
//! | deactivated | archive | archived |
//! | failed | retry | pending_token_signature without a token, pending_pool_signature with one |
//! | failed | archive | archived |
//!
//! Anything else is refused; `archived` accepts nothing.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

/// Where a deployment stands. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeploymentStatus)]
pub enum DeploymentStatus {
    /// Not deployed; the owner may start.
    Draft,
    /// Waiting for the owner's wallet to sign and send the token creation.
    PendingTokenSignature,
    /// The token exists on chain; the pool is next.
    TokenCreated,
    /// Waiting for the owner's wallet to sign and send the pool creation.
    PendingPoolSignature,
    /// Token and pool exist: the clone is live.
    Deployed,
    /// Taken out of service by its owner.
    Deactivated,
    /// Final: nothing more can happen.
    Archived,
    /// A step failed or was cancelled after the token step; may be retried or archived.
    Failed,
}

impl DeploymentStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [DeploymentStatus; 8] = [
        DeploymentStatus::Draft,
        DeploymentStatus::PendingTokenSignature,
        DeploymentStatus::TokenCreated,
        DeploymentStatus::PendingPoolSignature,
        DeploymentStatus::Deployed,
        DeploymentStatus::Deactivated,
        DeploymentStatus::Archived,
        DeploymentStatus::Failed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Draft => "draft",
            DeploymentStatus::PendingTokenSignature => "pending_token_signature",
            DeploymentStatus::TokenCreated => "token_created",
            DeploymentStatus::PendingPoolSignature => "pending_pool_signature",
            DeploymentStatus::Deployed => "deployed",
            DeploymentStatus::Deactivated => "deactivated",
            DeploymentStatus::Archived => "archived",
            DeploymentStatus::Failed => "failed",
        }
    }

    /// Reads a stored name; `None` for anything else (a corrupt row).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether no event can leave it.
    pub fn is_terminal(self) -> bool {
        self == DeploymentStatus::Archived
    }
}

/// What happened, as the machine sees it. Owner actions and chain outcomes alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentEvent {
    /// The owner starts deploying (draft only).
    InitiateDeployment,
    /// The token creation was confirmed on chain at this address.
    TokenCreationSuccess {
        /// The token contract.
        token_address: Address,
    },
    /// The owner starts the pool step (token created only).
    InitiatePoolCreation,
    /// The pool creation was confirmed on chain at this address.
    PoolCreationSuccess {
        /// The pool contract.
        pool_address: Address,
    },
    /// A pending step failed.
    Fail {
        /// Why, for the owner and the history.
        error: String,
    },
    /// The owner abandons a step in progress.
    Cancel,
    /// The owner retries a failed deployment.
    Retry,
    /// The owner takes a deployed clone out of service.
    Deactivate,
    /// The owner archives a draft, failed or deactivated deployment.
    Archive,
}

/// An event's stable name, without its data: what the history stores and errors name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeploymentEventKind)]
pub enum EventKind {
    /// [`DeploymentEvent::InitiateDeployment`].
    InitiateDeployment,
    /// [`DeploymentEvent::TokenCreationSuccess`].
    TokenCreationSuccess,
    /// [`DeploymentEvent::InitiatePoolCreation`].
    InitiatePoolCreation,
    /// [`DeploymentEvent::PoolCreationSuccess`].
    PoolCreationSuccess,
    /// [`DeploymentEvent::Fail`].
    Fail,
    /// [`DeploymentEvent::Cancel`].
    Cancel,
    /// [`DeploymentEvent::Retry`].
    Retry,
    /// [`DeploymentEvent::Deactivate`].
    Deactivate,
    /// [`DeploymentEvent::Archive`].
    Archive,
}

impl EventKind {
    /// Every event kind.
    pub const ALL: [EventKind; 9] = [
        EventKind::InitiateDeployment,
        EventKind::TokenCreationSuccess,
        EventKind::InitiatePoolCreation,
        EventKind::PoolCreationSuccess,
        EventKind::Fail,
        EventKind::Cancel,
        EventKind::Retry,
        EventKind::Deactivate,
        EventKind::Archive,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::InitiateDeployment => "initiate_deployment",
            EventKind::TokenCreationSuccess => "token_creation_success",
            EventKind::InitiatePoolCreation => "initiate_pool_creation",
            EventKind::PoolCreationSuccess => "pool_creation_success",
            EventKind::Fail => "fail",
            EventKind::Cancel => "cancel",
            EventKind::Retry => "retry",
            EventKind::Deactivate => "deactivate",
            EventKind::Archive => "archive",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl DeploymentEvent {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            DeploymentEvent::InitiateDeployment => EventKind::InitiateDeployment,
            DeploymentEvent::TokenCreationSuccess { .. } => EventKind::TokenCreationSuccess,
            DeploymentEvent::InitiatePoolCreation => EventKind::InitiatePoolCreation,
            DeploymentEvent::PoolCreationSuccess { .. } => EventKind::PoolCreationSuccess,
            DeploymentEvent::Fail { .. } => EventKind::Fail,
            DeploymentEvent::Cancel => EventKind::Cancel,
            DeploymentEvent::Retry => EventKind::Retry,
            DeploymentEvent::Deactivate => EventKind::Deactivate,
            DeploymentEvent::Archive => EventKind::Archive,
        }
    }
}

/// What the machine knows of a deployment besides its status: the facts its guards read and
/// its actions write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentContext {
    /// The token, once its creation was confirmed; never cleared.
    pub token_address: Option<Address>,
    /// The pool, once its creation was confirmed; never cleared.
    pub pool_address: Option<Address>,
    /// Why the last step failed; cleared when a step starts again.
    pub last_error: Option<String>,
}

/// The `last_error` a cancellation into `failed` records.
pub const CANCELLED: &str = "cancelled by the owner";

/// A decided transition: from where to where, and the context after the event's actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The status before.
    pub from: DeploymentStatus,
    /// The status after.
    pub to: DeploymentStatus,
    /// The event's kind.
    pub event: EventKind,
    /// The context after.
    pub context: DeploymentContext,
}

/// Why the machine refused an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The event is not allowed from this status.
    #[error("{} is not allowed from {}", .event.as_str(), .from.as_str())]
    NotAllowed {
        /// The current status.
        from: DeploymentStatus,
        /// The refused event.
        event: EventKind,
    },
    /// The event is allowed from this status, but its guard refused it (a second token, a
    /// pool without a token).
    #[error("{} from {} refused: {reason}", .event.as_str(), .from.as_str())]
    Guard {
        /// The current status.
        from: DeploymentStatus,
        /// The refused event.
        event: EventKind,
        /// What the guard checked.
        reason: &'static str,
    },
}

/// Decides what `event` does to a deployment in `status` with `context`: the new status and
/// context, or a refusal. The only place a deployment's status changes.
///
/// # Errors
/// [`TransitionError::NotAllowed`] for an event the status does not accept (anything from
/// `archived`); [`TransitionError::Guard`] when its guard fails.
pub fn transition(
    status: DeploymentStatus,
    context: &DeploymentContext,
    event: DeploymentEvent,
) -> Result<Transition, TransitionError> {
    use DeploymentStatus as S;
    let kind = event.kind();
    let mut next = context.clone();
    let guard = |reason| TransitionError::Guard {
        from: status,
        event: kind,
        reason,
    };
    let to = match (status, event) {
        (S::Draft, DeploymentEvent::InitiateDeployment) => {
            next.last_error = None;
            S::PendingTokenSignature
        }
        (S::Draft | S::Deactivated | S::Failed, DeploymentEvent::Archive) => S::Archived,
        (S::PendingTokenSignature, DeploymentEvent::TokenCreationSuccess { token_address }) => {
            if context.token_address.is_some() {
                return Err(guard("the deployment already has a token"));
            }
            next.token_address = Some(token_address);
            next.last_error = None;
            S::TokenCreated
        }
        (S::PendingTokenSignature | S::PendingPoolSignature, DeploymentEvent::Fail { error }) => {
            next.last_error = Some(error);
            S::Failed
        }
        (S::PendingTokenSignature, DeploymentEvent::Cancel) => S::Draft,
        (S::TokenCreated | S::PendingPoolSignature, DeploymentEvent::Cancel) => {
            next.last_error = Some(CANCELLED.to_string());
            S::Failed
        }
        (S::TokenCreated, DeploymentEvent::InitiatePoolCreation) => {
            if context.token_address.is_none() {
                return Err(guard("the pool needs a token"));
            }
            next.last_error = None;
            S::PendingPoolSignature
        }
        (S::PendingPoolSignature, DeploymentEvent::PoolCreationSuccess { pool_address }) => {
            if context.token_address.is_none() {
                return Err(guard("the pool needs a token"));
            }
            if context.pool_address.is_some() {
                return Err(guard("the deployment already has a pool"));
            }
            next.pool_address = Some(pool_address);
            next.last_error = None;
            S::Deployed
        }
        (S::Deployed, DeploymentEvent::Deactivate) => S::Deactivated,
        (S::Failed, DeploymentEvent::Retry) => {
            next.last_error = None;
            if context.token_address.is_some() {
                S::PendingPoolSignature
            } else {
                S::PendingTokenSignature
            }
        }
        (from, _) => {
            return Err(TransitionError::NotAllowed { from, event: kind });
        }
    };
    Ok(Transition {
        from: status,
        to,
        event: kind,
        context: next,
    })
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
