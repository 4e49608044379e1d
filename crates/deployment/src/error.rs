//! Deployment failures, each with a stable machine code.

use clones_auth::AuthError;
use clones_clone_service::CloneError;
use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, PageError};
use clones_secrets::SecretsError;

use crate::machine::TransitionError;

/// A deployment failure. [`DomainError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The event is not allowed in the deployment's current status (409).
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    /// The clone has no deployment (a system event for a clone that never started one).
    #[error("deployment not found")]
    NotFound,
    /// A transaction was submitted while the deployment waits for no signature (409).
    #[error("the deployment is {0}, not waiting for a signed transaction")]
    NotAwaitingSignature(&'static str),
    /// The on-chain steps are not configured (no factory, RPC or payment token).
    #[error("the deployment chain is not configured")]
    ChainNotConfigured,
    /// The chain could not be read (RPC failure, wrong chain); retried later.
    #[error("{0}")]
    ChainRead(String),
    /// The owner's wallets could not be read.
    #[error(transparent)]
    Access(#[from] AuthError),
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// A stored row does not parse, or its deposit key does not match its address.
    #[error("corrupt deployment row: {0}")]
    Corrupt(String),
    /// The clone is not the caller's (or does not exist): 404.
    #[error(transparent)]
    Clone(#[from] CloneError),
    /// The deposit key could not be sealed or opened.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A cursor is malformed.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for DeploymentError {
    fn from(error: diesel::result::Error) -> Self {
        DeploymentError::Db(DbError::Query(error))
    }
}

impl DomainError for DeploymentError {
    fn kind(&self) -> ErrorKind {
        match self {
            DeploymentError::InvalidTransition(_) => ErrorKind::Conflict,
            DeploymentError::NotFound => ErrorKind::NotFound,
            DeploymentError::NotAwaitingSignature(_) => ErrorKind::Conflict,
            DeploymentError::ChainNotConfigured => ErrorKind::Unavailable,
            DeploymentError::ChainRead(_) => ErrorKind::Unavailable,
            DeploymentError::Access(error) => error.kind(),
            DeploymentError::InvalidInput(_) => ErrorKind::InvalidInput,
            DeploymentError::Corrupt(_) => ErrorKind::Internal,
            DeploymentError::Clone(error) => error.kind(),
            DeploymentError::Secrets(error) => error.kind(),
            DeploymentError::Page(error) => error.kind(),
            DeploymentError::Db(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DeploymentError::InvalidTransition(TransitionError::NotAllowed { .. }) => {
                "deployment_transition_not_allowed"
            }
            DeploymentError::InvalidTransition(TransitionError::Guard { .. }) => {
                "deployment_guard_failed"
            }
            DeploymentError::NotFound => "deployment_not_found",
            DeploymentError::NotAwaitingSignature(_) => "deployment_not_awaiting_signature",
            DeploymentError::ChainNotConfigured => "deployment_chain_not_configured",
            DeploymentError::ChainRead(_) => "deployment_chain_unavailable",
            DeploymentError::Access(error) => error.code(),
            DeploymentError::InvalidInput(_) => "invalid_input",
            DeploymentError::Corrupt(_) => "internal",
            DeploymentError::Clone(error) => error.code(),
            DeploymentError::Secrets(error) => error.code(),
            DeploymentError::Page(error) => error.code(),
            DeploymentError::Db(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeploymentStatus, EventKind};

    #[test]
    fn refused_transitions_are_conflicts_with_stable_codes() {
        let not_allowed = DeploymentError::from(TransitionError::NotAllowed {
            from: DeploymentStatus::Archived,
            event: EventKind::Retry,
        });
        assert_eq!(not_allowed.kind(), ErrorKind::Conflict);
        assert_eq!(not_allowed.code(), "deployment_transition_not_allowed");
        assert_eq!(
            not_allowed.to_string(),
            "retry is not allowed from archived"
        );
        let guard = DeploymentError::from(TransitionError::Guard {
            from: DeploymentStatus::TokenCreated,
            event: EventKind::InitiatePoolCreation,
            reason: "the pool needs a token",
        });
        assert_eq!(guard.kind(), ErrorKind::Conflict);
        assert_eq!(guard.code(), "deployment_guard_failed");
    }
}
