//! Lifecycle failures, each with a stable machine code and a transport-independent kind.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem};

/// A lifecycle failure. [`LifecycleError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The clone does not exist or is not the caller's.
    #[error("clone not found")]
    CloneNotFound,
    /// The audition does not exist or is not the caller's.
    #[error("audition not found")]
    AuditionNotFound,
    /// No rule set has this code.
    #[error("no audition rule set is called {0}")]
    RuleSetNotFound(String),
    /// The rule set exists but is not offered any more.
    #[error("the audition rule set {0} is not active")]
    RuleSetInactive(String),
    /// The purchase does not exist or is not the caller's.
    #[error("purchase not found")]
    PurchaseNotFound,
    /// The purchase is not an audition fee for this clone.
    #[error("the purchase is not an audition fee for this clone")]
    PurchaseNotForAudition,
    /// The clone has no active published strategy version.
    #[error("the clone has no published strategy version")]
    StrategyNotPublished,
    /// Another audition of the clone is running.
    #[error("another audition of this clone is running")]
    AuditionAlreadyRunning,
    /// Only a failed audition can be retried.
    #[error("only a failed audition can be retried")]
    AuditionNotFailed,
    /// The rule set allows no retry after this failure.
    #[error("the rule set allows no retry after {0}")]
    RetryNotAllowed(String),
    /// Every free retry is used.
    #[error("all {0} free retries are used")]
    NoRetriesLeft(u32),
    /// The purchase has a refund authorization; it can no longer pay for attempts.
    #[error("the audition fee was refunded")]
    PurchaseRefunded,
    /// Only a running or failed audition can be voided.
    #[error("only a running or failed audition can be voided")]
    AuditionNotVoidable,
    /// A passed audition is never refunded.
    #[error("a passed audition cannot be refunded")]
    RefundNotAllowed,
    /// The purchase already has a refund authorization.
    #[error("a refund is already authorized for this purchase")]
    RefundAlreadyAuthorized,
    /// The clone has no Promotion Queue entry.
    #[error("the clone has no Promotion Queue entry")]
    PromotionEntryNotFound,
    /// The clone has no Arena membership.
    #[error("the clone has no Arena membership")]
    ArenaMembershipNotFound,
    /// Clone-service refused or failed.
    #[error(transparent)]
    Clone(#[from] clones_clone_service::CloneError),
    /// Prop-engine refused or failed.
    #[error(transparent)]
    Prop(#[from] clones_prop_engine::PropError),
    /// Economy refused or failed.
    #[error(transparent)]
    Economy(#[from] clones_economy::EconomyError),
    /// Stored data breaks an invariant (a bug or manual tampering).
    #[error("stored lifecycle data is inconsistent: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for LifecycleError {
    fn from(error: diesel::result::Error) -> Self {
        LifecycleError::Db(DbError::Query(error))
    }
}

impl DomainError for LifecycleError {
    fn kind(&self) -> ErrorKind {
        use LifecycleError::*;
        match self {
            InvalidInput(_) => ErrorKind::InvalidInput,
            CloneNotFound
            | AuditionNotFound
            | RuleSetNotFound(_)
            | PurchaseNotFound
            | PromotionEntryNotFound
            | ArenaMembershipNotFound => ErrorKind::NotFound,
            RuleSetInactive(_)
            | PurchaseNotForAudition
            | StrategyNotPublished
            | RetryNotAllowed(_)
            | NoRetriesLeft(_)
            | PurchaseRefunded
            | RefundNotAllowed => ErrorKind::RuleViolation,
            AuditionAlreadyRunning
            | AuditionNotFailed
            | AuditionNotVoidable
            | RefundAlreadyAuthorized => ErrorKind::Conflict,
            Clone(error) => error.kind(),
            Prop(error) => error.kind(),
            Economy(error) => error.kind(),
            Corrupt(_) => ErrorKind::Internal,
            Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        use LifecycleError::*;
        match self {
            InvalidInput(_) => "invalid_input",
            CloneNotFound => "clone_not_found",
            AuditionNotFound => "audition_not_found",
            RuleSetNotFound(_) => "rule_set_not_found",
            RuleSetInactive(_) => "rule_set_inactive",
            PurchaseNotFound => "purchase_not_found",
            PurchaseNotForAudition => "purchase_not_for_audition",
            StrategyNotPublished => "strategy_not_published",
            AuditionAlreadyRunning => "audition_already_running",
            AuditionNotFailed => "audition_not_failed",
            RetryNotAllowed(_) => "retry_not_allowed",
            NoRetriesLeft(_) => "no_retries_left",
            PurchaseRefunded => "purchase_refunded",
            AuditionNotVoidable => "audition_not_voidable",
            RefundNotAllowed => "refund_not_allowed",
            RefundAlreadyAuthorized => "refund_already_authorized",
            PromotionEntryNotFound => "promotion_entry_not_found",
            ArenaMembershipNotFound => "arena_membership_not_found",
            Clone(error) => error.code(),
            Prop(error) => error.code(),
            Economy(error) => error.code(),
            Corrupt(_) => "internal",
            Db(error) => error.code(),
        }
    }

    /// The graph problems of a wrapped clone-service or economy error.
    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            LifecycleError::Clone(error) => error.problems(),
            LifecycleError::Economy(error) => error.problems(),
            _ => None,
        }
    }
}
