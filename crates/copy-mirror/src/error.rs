//! Copy-trade failures, each with a stable machine code.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, PageError};
use clones_prop_engine::PropError;
use clones_secrets::SecretsError;

use crate::clob::ClobError;

/// A copy-trade failure. [`DomainError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum CopyTradeError {
    /// The target does not exist, was removed, or belongs to someone else.
    #[error("copy-trade target not found")]
    TargetNotFound,
    /// The tenant has not set a grant yet.
    #[error("no copy-trade grant is set")]
    GrantNotFound,
    /// The tenant already mirrors that wallet.
    #[error("the wallet is already a target")]
    DuplicateTarget,
    /// The tenant has no CLOB account yet.
    #[error("no CLOB account for this tenant")]
    ClobAccountNotFound,
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// A stored row does not parse.
    #[error("corrupt copy-trade row: {0}")]
    Corrupt(String),
    /// The prop engine failed (the paper executor, positions).
    #[error(transparent)]
    Prop(#[from] PropError),
    /// A CLOB key or credential could not be sealed or opened.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The CLOB could not be reached or refused (creating API credentials).
    #[error(transparent)]
    Clob(#[from] ClobError),
    /// A cursor is malformed.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CopyTradeError {
    fn from(error: diesel::result::Error) -> Self {
        CopyTradeError::Db(DbError::Query(error))
    }
}

impl DomainError for CopyTradeError {
    fn kind(&self) -> ErrorKind {
        match self {
            CopyTradeError::TargetNotFound
            | CopyTradeError::GrantNotFound
            | CopyTradeError::ClobAccountNotFound => ErrorKind::NotFound,
            CopyTradeError::DuplicateTarget => ErrorKind::Conflict,
            CopyTradeError::InvalidInput(_) => ErrorKind::InvalidInput,
            CopyTradeError::Corrupt(_) => ErrorKind::Internal,
            CopyTradeError::Prop(error) => error.kind(),
            CopyTradeError::Secrets(error) => error.kind(),
            CopyTradeError::Clob(error) => error.kind(),
            CopyTradeError::Page(error) => error.kind(),
            CopyTradeError::Db(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CopyTradeError::TargetNotFound => "copy_target_not_found",
            CopyTradeError::GrantNotFound => "copy_grant_not_found",
            CopyTradeError::DuplicateTarget => "copy_target_exists",
            CopyTradeError::ClobAccountNotFound => "copy_clob_account_not_found",
            CopyTradeError::InvalidInput(_) => "invalid_input",
            CopyTradeError::Corrupt(_) => "internal",
            CopyTradeError::Prop(error) => error.code(),
            CopyTradeError::Secrets(error) => error.code(),
            CopyTradeError::Clob(error) => error.code(),
            CopyTradeError::Page(error) => error.code(),
            CopyTradeError::Db(error) => error.code(),
        }
    }
}
