//! Clone-service failures, each with a stable machine code.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem, PageError};

/// A clone-service failure. [`CloneError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    /// The clone does not exist or belongs to someone else.
    #[error("clone not found")]
    CloneNotFound,
    /// The clone has no published version of that number.
    #[error("strategy version not found")]
    VersionNotFound,
    /// No public profile (or not visible to the caller).
    #[error("profile not found")]
    ProfileNotFound,
    /// No such report.
    #[error("report not found")]
    ReportNotFound,
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The strategy graph does not compile.
    #[error("the strategy graph is invalid ({} problem(s))", .0.len())]
    InvalidGraph(Vec<FieldProblem>),
    /// The clone's model is stronger than its entitlement allows.
    #[error("model `{0}` is not allowed by this clone's entitlement")]
    ModelNotAllowed(String),
    /// More assets than the entitlement allows.
    #[error("at most {0} active asset(s) allowed by this clone's entitlement")]
    TooManyAssets(u32),
    /// Nothing to publish differs from the active version.
    #[error("the draft is identical to the active version")]
    NothingToPublish,
    /// The username is taken by another live profile.
    #[error("username `{0}` is taken")]
    UsernameTaken(String),
    /// The profile is retired; only an admin can reinstate it.
    #[error("this profile is retired; an administrator must reinstate it")]
    ProfileRetired,
    /// Owners cannot report their own clone.
    #[error("you cannot report your own clone")]
    SelfReport,
    /// The report was already resolved.
    #[error("the report is already resolved")]
    ReportResolved,
    /// The clone is already in the requested moderation state.
    #[error("{0}")]
    StateConflict(String),
    /// The purchase already created a clone.
    #[error("the purchase already created a clone")]
    PurchaseAlreadyUsed,
    /// A stored row holds a value this code does not know (details are logged, not shown).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A page cursor this list did not issue: it names no row of the list.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CloneError {
    fn from(error: diesel::result::Error) -> Self {
        CloneError::Db(DbError::Query(error))
    }
}

impl DomainError for CloneError {
    fn kind(&self) -> ErrorKind {
        use CloneError::*;
        match self {
            CloneNotFound | VersionNotFound | ProfileNotFound | ReportNotFound => {
                ErrorKind::NotFound
            }
            InvalidInput(_) => ErrorKind::InvalidInput,
            InvalidGraph(_) | ModelNotAllowed(_) | TooManyAssets(_) | SelfReport => {
                ErrorKind::RuleViolation
            }
            NothingToPublish | UsernameTaken(_) | ProfileRetired | ReportResolved
            | StateConflict(_) | PurchaseAlreadyUsed => ErrorKind::Conflict,
            Corrupt(_) => ErrorKind::Internal,
            Page(error) => error.kind(),
            Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        use CloneError::*;
        match self {
            CloneNotFound => "clone_not_found",
            VersionNotFound => "strategy_version_not_found",
            ProfileNotFound => "profile_not_found",
            ReportNotFound => "report_not_found",
            InvalidInput(_) => "invalid_input",
            InvalidGraph(_) => "invalid_strategy_graph",
            ModelNotAllowed(_) => "model_not_allowed",
            TooManyAssets(_) => "too_many_assets",
            NothingToPublish => "nothing_to_publish",
            UsernameTaken(_) => "username_taken",
            ProfileRetired => "profile_retired",
            SelfReport => "self_report",
            ReportResolved => "report_resolved",
            StateConflict(_) => "state_conflict",
            PurchaseAlreadyUsed => "purchase_already_used",
            Corrupt(_) => "internal",
            Page(error) => error.code(),
            Db(error) => error.code(),
        }
    }

    /// The graph problems of an invalid strategy graph.
    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            CloneError::InvalidGraph(problems) => Some(problems),
            _ => None,
        }
    }
}
