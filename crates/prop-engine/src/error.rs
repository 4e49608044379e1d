//! Prop-engine failures, each with a stable machine code.
//!
//! A gate rejection is not an error: the order is recorded as `rejected` with its reason code
//! and returned, so a replay of the same decision action returns the same refusal.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind};

use crate::feed::FeedError;

/// A prop-engine failure. [`PropError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum PropError {
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The account does not exist or is not the caller's.
    #[error("prop account not found")]
    AccountNotFound,
    /// The account is closed.
    #[error("the prop account is closed")]
    AccountClosed,
    /// The account is already halted.
    #[error("the prop account is already halted")]
    AlreadyHalted,
    /// The account is not halted.
    #[error("the prop account is not halted")]
    NotHalted,
    /// The market feed could not answer; nothing was recorded.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// Stored data breaks an invariant (a bug or manual tampering).
    #[error("stored prop data is inconsistent: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for PropError {
    fn from(error: diesel::result::Error) -> Self {
        PropError::Db(DbError::Query(error))
    }
}

impl DomainError for PropError {
    fn kind(&self) -> ErrorKind {
        match self {
            PropError::InvalidInput(_) => ErrorKind::InvalidInput,
            PropError::AccountNotFound => ErrorKind::NotFound,
            PropError::AccountClosed => ErrorKind::RuleViolation,
            PropError::AlreadyHalted | PropError::NotHalted => ErrorKind::Conflict,
            PropError::Feed(_) => ErrorKind::Unavailable,
            PropError::Corrupt(_) => ErrorKind::Internal,
            PropError::Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        match self {
            PropError::InvalidInput(_) => "invalid_input",
            PropError::AccountNotFound => "prop_account_not_found",
            PropError::AccountClosed => "prop_account_closed",
            PropError::AlreadyHalted => "prop_account_already_halted",
            PropError::NotHalted => "prop_account_not_halted",
            PropError::Feed(_) => "market_feed_unavailable",
            PropError::Corrupt(_) => "internal",
            PropError::Db(error) => error.code(),
        }
    }
}
