//! Failures of backtest jobs, each with a stable machine code.

use clones_clone_service::CloneError;
use clones_db::DbError;
use clones_ingest::IngestError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem, PageError};
use clones_prop_engine::PropError;

use crate::engine::BacktestError;

/// A backtest-job failure. [`DomainError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The clone does not exist or belongs to someone else.
    #[error("clone not found")]
    CloneNotFound,
    /// The job does not exist, belongs to another clone, or to someone else.
    #[error("backtest job not found")]
    JobNotFound,
    /// The job produced no artifact of that kind.
    #[error("backtest artifact not found")]
    ArtifactNotFound,
    /// The artifact existed and was deleted by retention.
    #[error("the artifact was deleted after the retention period")]
    ArtifactExpired,
    /// The paper account does not exist, is someone else's, or traded for another clone.
    #[error("paper account not found for this clone")]
    AccountNotFound,
    /// The request is malformed (each problem names its field).
    #[error("the backtest request is invalid ({} problem(s))", .0.len())]
    InvalidRequest(Vec<FieldProblem>),
    /// The strategy graph does not compile.
    #[error("the strategy graph is invalid ({} problem(s))", .0.len())]
    InvalidStrategy(Vec<FieldProblem>),
    /// Bigger than the hard or per-tier size limits (each problem names the limit).
    #[error("the backtest is too large ({} limit(s) exceeded)", .0.len())]
    TooLarge(Vec<FieldProblem>),
    /// The tier's daily usage is spent; the day resets at midnight UTC.
    #[error("{detail}")]
    UsageExceeded {
        /// What is spent.
        detail: String,
        /// Seconds until the next UTC day.
        retry_after_secs: u64,
    },
    /// The user already has the most jobs queued or running at once.
    #[error("at most {0} backtest job(s) may be queued or running at once")]
    QueueFull(u32),
    /// The job already finished; there is nothing to cancel.
    #[error("the backtest job already finished")]
    JobFinished,
    /// The engine refused the job or its data.
    #[error(transparent)]
    Engine(#[from] BacktestError),
    /// A stored job, metric or artifact does not parse.
    #[error("corrupt backtest row: {0}")]
    Corrupt(String),
    /// The clone context failed.
    #[error(transparent)]
    Clone(CloneError),
    /// The prop engine failed.
    #[error(transparent)]
    Prop(#[from] PropError),
    /// Market memory failed.
    #[error(transparent)]
    Market(#[from] IngestError),
    /// A cursor is malformed.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<CloneError> for JobError {
    fn from(error: CloneError) -> Self {
        match error {
            CloneError::CloneNotFound => JobError::CloneNotFound,
            other => JobError::Clone(other),
        }
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(error: diesel::result::Error) -> Self {
        JobError::Db(DbError::Query(error))
    }
}

impl JobError {
    /// Whether running the job again could succeed (a dependency was down), as opposed to a
    /// failure of the job itself, which fails the same way every time.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Internal)
            && !matches!(self, JobError::Corrupt(_))
    }
}

impl DomainError for JobError {
    fn kind(&self) -> ErrorKind {
        use JobError::*;
        match self {
            CloneNotFound | JobNotFound | ArtifactNotFound | ArtifactExpired | AccountNotFound => {
                ErrorKind::NotFound
            }
            InvalidRequest(_) => ErrorKind::InvalidInput,
            InvalidStrategy(_) | TooLarge(_) => ErrorKind::RuleViolation,
            UsageExceeded { .. } | QueueFull(_) => ErrorKind::RateLimited,
            JobFinished => ErrorKind::Conflict,
            Engine(error) => match error {
                BacktestError::Stopped => ErrorKind::Conflict,
                _ => ErrorKind::RuleViolation,
            },
            Corrupt(_) => ErrorKind::Internal,
            Clone(error) => error.kind(),
            Prop(error) => error.kind(),
            Market(error) => error.kind(),
            Page(error) => error.kind(),
            Db(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        use JobError::*;
        match self {
            CloneNotFound => "clone_not_found",
            JobNotFound => "backtest_job_not_found",
            ArtifactNotFound => "backtest_artifact_not_found",
            ArtifactExpired => "backtest_artifact_expired",
            AccountNotFound => "prop_account_not_found",
            InvalidRequest(_) => "invalid_backtest_request",
            InvalidStrategy(_) => "invalid_strategy_graph",
            TooLarge(_) => "backtest_too_large",
            UsageExceeded { .. } => "backtest_usage_exceeded",
            QueueFull(_) => "backtest_queue_full",
            JobFinished => "backtest_job_finished",
            Engine(error) => error.code(),
            Corrupt(_) => "internal",
            Clone(error) => error.code(),
            Prop(error) => error.code(),
            Market(error) => error.code(),
            Page(error) => error.code(),
            Db(error) => error.code(),
        }
    }

    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            JobError::InvalidRequest(problems)
            | JobError::InvalidStrategy(problems)
            | JobError::TooLarge(problems) => Some(problems),
            _ => None,
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            JobError::UsageExceeded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            JobError::QueueFull(_) => Some(QUEUE_FULL_RETRY_SECS),
            _ => None,
        }
    }
}

/// What a client refused for a full queue is told to wait: about one small job's run time.
pub const QUEUE_FULL_RETRY_SECS: u64 = 30;
