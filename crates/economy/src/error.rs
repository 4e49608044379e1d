//! Economy failures, each with a stable machine code.

use clones_db::DbError;
use clones_kernel::{DomainError, ErrorKind, FieldProblem};
use clones_vault::VaultError;

/// An economy failure. [`EconomyError::code`] is part of the public API.
#[derive(Debug, thiserror::Error)]
pub enum EconomyError {
    /// Payments are not configured on this deployment (no vault, chain or signing key).
    #[error("payments are not configured")]
    NotConfigured,
    /// A field is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The payer address is not one of the caller's wallets.
    #[error("the payer address is not one of your wallets")]
    PayerNotYours,
    /// The clone does not exist or is not the caller's.
    #[error("clone not found")]
    CloneNotFound,
    /// A capacity upgrade must raise the tier, and a creator plan the plan.
    #[error("this tier or plan, or a higher one, is already in force")]
    NotAnUpgrade,
    /// No price is configured for what was asked.
    #[error("no price is configured for {0}")]
    NoPrice(String),
    /// The quote does not exist or is not the caller's.
    #[error("quote not found")]
    QuoteNotFound,
    /// The deposit does not exist or is not the caller's.
    #[error("deposit not found")]
    DepositNotFound,
    /// The quote expired before a deposit for it appeared on chain.
    #[error("the quote expired before its deposit was mined; request a new quote")]
    QuoteExpired,
    /// The chain says no: the deposit reverted, paid another quote, or is not a vault deposit.
    #[error("deposit rejected: {detail}")]
    DepositRejected {
        /// The vault's machine code (e.g. `deposit_reverted`, `quote_mismatch`).
        code: &'static str,
        /// What the chain check found.
        detail: String,
    },
    /// The chain side failed in a way the caller can fix or retry.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A clone-service rule refused the purchase's effect.
    #[error(transparent)]
    Clone(#[from] clones_clone_service::CloneError),
    /// Identity lookups failed.
    #[error(transparent)]
    Auth(#[from] clones_auth::AuthError),
    /// The prop engine failed to list fills for royalty booking.
    #[error(transparent)]
    Prop(#[from] clones_prop_engine::PropError),
    /// The marketplace failed to give a strategy's royalty path.
    #[error(transparent)]
    Marketplace(#[from] clones_marketplace::MarketplaceError),
    /// A royalty booking would not balance (a bug, never booked).
    #[error("unbalanced royalty booking: {0}")]
    Unbalanced(String),
    /// A database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for EconomyError {
    fn from(error: diesel::result::Error) -> Self {
        EconomyError::Db(DbError::Query(error))
    }
}

impl DomainError for EconomyError {
    fn kind(&self) -> ErrorKind {
        use EconomyError::*;
        match self {
            NotConfigured => ErrorKind::Unavailable,
            InvalidInput(_) => ErrorKind::InvalidInput,
            PayerNotYours | NotAnUpgrade | NoPrice(_) | QuoteExpired | DepositRejected { .. } => {
                ErrorKind::RuleViolation
            }
            CloneNotFound | QuoteNotFound | DepositNotFound => ErrorKind::NotFound,
            Vault(error) => error.kind(),
            Clone(error) => error.kind(),
            Auth(error) => error.kind(),
            Prop(error) => error.kind(),
            Marketplace(error) => error.kind(),
            Unbalanced(_) => ErrorKind::Internal,
            Db(error) => error.kind(),
        }
    }

    /// The stable machine code.
    fn code(&self) -> &'static str {
        use EconomyError::*;
        match self {
            NotConfigured => "payments_not_configured",
            InvalidInput(_) => "invalid_input",
            PayerNotYours => "payer_not_yours",
            CloneNotFound => "clone_not_found",
            NotAnUpgrade => "not_an_upgrade",
            NoPrice(_) => "no_price",
            QuoteNotFound => "quote_not_found",
            DepositNotFound => "deposit_not_found",
            QuoteExpired => "quote_expired",
            DepositRejected { code, .. } => code,
            Vault(error) => error.code(),
            Clone(error) => error.code(),
            Auth(error) => error.code(),
            Prop(error) => error.code(),
            Marketplace(error) => error.code(),
            Unbalanced(_) => "internal",
            Db(error) => error.code(),
        }
    }

    /// The graph problems of a wrapped clone-service error.
    fn problems(&self) -> Option<&[FieldProblem]> {
        match self {
            EconomyError::Clone(error) => error.problems(),
            _ => None,
        }
    }
}
