//! Database failures, their kinds and codes.
//!
//! This is the one place a database failure becomes an [`ErrorKind`] and a machine code; every
//! context's error enum answers its `Db` variant from here.

use clones_kernel::{DomainError, ErrorKind};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A failure reaching or using PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No pooled connection became free within the configured checkout wait.
    #[error("timed out waiting for a database connection")]
    PoolTimeout,
    /// A query or transaction failed.
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    /// Establishing a direct connection failed.
    #[error("could not connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// Running migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The pool settings are unusable.
    #[error("invalid database settings: {0}")]
    InvalidSettings(String),
    /// The blocking task running the database work panicked or was cancelled.
    #[error("database task did not complete")]
    TaskAborted,
}

impl DomainError for DbError {
    /// Connectivity problems are retryable, the rest are bugs.
    fn kind(&self) -> ErrorKind {
        match self {
            DbError::PoolTimeout | DbError::Connect(_) => ErrorKind::Unavailable,
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => {
                ErrorKind::Unavailable
            }
            DbError::Query(_)
            | DbError::Migration(_)
            | DbError::InvalidSettings(_)
            | DbError::TaskAborted => ErrorKind::Internal,
        }
    }

    /// `database_unavailable` for connectivity problems, otherwise `internal`.
    fn code(&self) -> &'static str {
        match self.kind() {
            ErrorKind::Unavailable => "database_unavailable",
            _ => "internal",
        }
    }
}

/// True when `error` is a unique-constraint violation, optionally of the named constraint.
pub fn is_unique_violation(error: &DieselError, constraint: Option<&str>) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            constraint.is_none_or(|name| info.constraint_name() == Some(name))
        }
        _ => false,
    }
}
