//! AI-decision failures, each with a stable machine code.
//!
//! A skipped run, invalid model output or a model failure is not an error: it is recorded as
//! the run's status with a reason code. Errors are what prevented recording anything.

use clones_clone_service::CloneError;
use clones_db::DbError;
use clones_ingest::IngestError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem};
use clones_lifecycle::LifecycleError;
use clones_prop_engine::PropError;

/// An ai-decision failure. [`DecisionError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    /// The clone does not exist or belongs to someone else.
    #[error("clone not found")]
    CloneNotFound,
    /// The decision run does not exist, belongs to someone else or to another clone.
    #[error("decision run not found")]
    RunNotFound,
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// Clone-service refused or failed.
    #[error(transparent)]
    Clone(CloneError),
    /// Prop-engine refused or failed while reading account state.
    #[error(transparent)]
    Prop(#[from] PropError),
    /// Market memory could not be read.
    #[error(transparent)]
    Market(#[from] IngestError),
    /// The lifecycle roster could not be read.
    #[error(transparent)]
    Roster(#[from] LifecycleError),
    /// Stored data breaks an invariant (a bug or manual tampering).
    #[error("stored decision data is inconsistent: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<CloneError> for DecisionError {
    fn from(error: CloneError) -> Self {
        match error {
            CloneError::CloneNotFound => DecisionError::CloneNotFound,
            other => DecisionError::Clone(other),
        }
    }
}

impl From<diesel::result::Error> for DecisionError {
    fn from(error: diesel::result::Error) -> Self {
        DecisionError::Db(DbError::Query(error))
    }
}

impl DomainError for DecisionError {
    fn kind(&self) -> ErrorKind {
        match self {
            DecisionError::CloneNotFound | DecisionError::RunNotFound => ErrorKind::NotFound,
            DecisionError::InvalidInput(_) => ErrorKind::InvalidInput,
            DecisionError::Clone(error) => error.kind(),
            DecisionError::Prop(error) => error.kind(),
            DecisionError::Market(error) => match error.kind() {
                ErrorKind::Unavailable => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            },
            DecisionError::Roster(error) => error.kind(),
            DecisionError::Corrupt(_) => ErrorKind::Internal,
            DecisionError::Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        match self {
            DecisionError::CloneNotFound => "clone_not_found",
            DecisionError::RunNotFound => "decision_run_not_found",
            DecisionError::InvalidInput(_) => "invalid_input",
            DecisionError::Clone(error) => error.code(),
            DecisionError::Prop(error) => error.code(),
            DecisionError::Market(error) => match error.kind() {
                ErrorKind::Unavailable => "market_data_unavailable",
                _ => "internal",
            },
            DecisionError::Roster(error) => error.code(),
            DecisionError::Corrupt(_) => "internal",
            DecisionError::Db(error) => error.code(),
        }
    }

    /// The graph problems of a wrapped clone-service error.
    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            DecisionError::Clone(error) => error.problems(),
            _ => None,
        }
    }
}
