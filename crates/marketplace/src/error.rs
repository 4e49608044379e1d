//! Marketplace failures, each with a stable machine code.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem, PageError};

use crate::status::InvalidTransition;

/// A marketplace failure. [`DomainError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// The strategy does not exist or is not visible to the caller.
    #[error("strategy not found")]
    NotFound,
    /// The graph does not parse or compile; every problem names its node.
    #[error("the strategy graph is invalid")]
    InvalidGraph(Vec<FieldProblem>),
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The uploader sent too many strategies recently.
    #[error("too many uploads; try again later")]
    UploadLimit {
        /// Seconds until an upload is accepted again.
        retry_after_secs: u64,
    },
    /// The strategy's status does not allow the action.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// Only a `proposable` strategy can be adopted by a clone.
    #[error("only a proposable strategy can be adopted")]
    NotProposable,
    /// Clone-service refused the adoption (the clone is not the caller's, or the graph does
    /// not fit the clone's constraints).
    #[error(transparent)]
    Clone(#[from] clones_clone_service::CloneError),
    /// A stored row does not parse.
    #[error("corrupt marketplace row: {0}")]
    Corrupt(String),
    /// A cursor is malformed.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for MarketplaceError {
    fn from(error: diesel::result::Error) -> Self {
        MarketplaceError::Db(DbError::Query(error))
    }
}

impl DomainError for MarketplaceError {
    fn kind(&self) -> ErrorKind {
        match self {
            MarketplaceError::NotFound => ErrorKind::NotFound,
            MarketplaceError::InvalidGraph(_) | MarketplaceError::InvalidInput(_) => {
                ErrorKind::InvalidInput
            }
            MarketplaceError::UploadLimit { .. } => ErrorKind::RateLimited,
            MarketplaceError::InvalidTransition(_) | MarketplaceError::NotProposable => {
                ErrorKind::Conflict
            }
            MarketplaceError::Clone(error) => error.kind(),
            MarketplaceError::Corrupt(_) => ErrorKind::Internal,
            MarketplaceError::Page(error) => error.kind(),
            MarketplaceError::Db(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            MarketplaceError::NotFound => "strategy_not_found",
            MarketplaceError::InvalidGraph(_) => "invalid_strategy_graph",
            MarketplaceError::InvalidInput(_) => "invalid_input",
            MarketplaceError::UploadLimit { .. } => "strategy_upload_limit",
            MarketplaceError::InvalidTransition(_) => "invalid_strategy_transition",
            MarketplaceError::NotProposable => "strategy_not_proposable",
            MarketplaceError::Clone(error) => error.code(),
            MarketplaceError::Corrupt(_) => "internal",
            MarketplaceError::Page(error) => error.code(),
            MarketplaceError::Db(error) => error.code(),
        }
    }

    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            MarketplaceError::InvalidGraph(problems) => Some(problems),
            MarketplaceError::Clone(error) => error.problems(),
            _ => None,
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            MarketplaceError::UploadLimit { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}
