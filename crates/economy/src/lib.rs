//! Economy: what things cost and whether they were paid.
//!
//! This crate owns fee quotes (priced from configuration, signed with the platform's quote key
//! for the SignedVault contract), submitted deposits (verified against the chain, re-checked by
//! a worker while pending) and purchase facts, which are idempotent on (vault resolver, deposit
//! nonce). A purchase's effect commits in the same transaction as the fact: a new clone with its
//! default draft and Starter entitlement, or a higher tier, written through clone-service's
//! provisioning functions, never into clone-service tables directly.
//!
//! An operator may grant a clone instead (`grant_clone`, for demo data and support cases): the
//! grant is recorded as a purchase with source `operator_grant` and no payment, and creates
//! the clone the same way.
//!
//! It also owns creator plans (bought like any purchase, purpose `creator_plan`) and the
//! royalties booked on the profitable Arena fills of clones trading an adopted marketplace
//! strategy ([`royalties`]).
//!
//! It does not decide audition outcomes (lifecycle consumes `audition_fee` purchases) and holds
//! no private key but the quote signer's.

pub mod config;
mod error;
mod models;
mod repo;
pub mod royalties;
mod service;
pub mod settings;
pub mod views;

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use serde::Serialize;
use uuid::Uuid;

pub use config::{PaymentSettings, PriceKey, PriceTable};
pub use error::EconomyError;
pub use royalties::{PgRoyaltyService, RoyaltyService, RoyaltySettings};
pub use service::{DEFAULT_CLONE_NAME, PgEconomyService};
pub use views::*;

/// What one re-check pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecheckReport {
    /// Deposits checked.
    pub checked: u64,
    /// Deposits confirmed (purchases recorded).
    pub confirmed: u64,
    /// Deposits rejected.
    pub rejected: u64,
    /// Deposits still pending.
    pub still_pending: u64,
    /// Deposits whose settlement failed this time (database trouble); their lease expires and
    /// a later cycle tries again.
    pub failed: u64,
}

/// Quotes, deposits and purchases.
#[async_trait]
pub trait EconomyService: Send + Sync {
    /// Prices and signs a quote for the caller.
    async fn quote(&self, user: Uuid, request: QuoteRequest) -> Result<SignedQuote, EconomyError>;

    /// Registers a deposit transaction for one of the caller's quotes and checks it at once.
    async fn submit_deposit(
        &self,
        user: Uuid,
        quote_id: Uuid,
        tx_hash: &str,
    ) -> Result<DepositOutcome, EconomyError>;

    /// One of the caller's deposits.
    async fn deposit(&self, user: Uuid, deposit_id: Uuid) -> Result<DepositOutcome, EconomyError>;

    /// The caller's purchases, newest first by (time, id), one page at a time.
    ///
    /// # Errors
    /// Database failures.
    async fn purchases(
        &self,
        user: Uuid,
        page: PageRequest,
    ) -> Result<Page<PurchaseView>, EconomyError>;

    /// One of the caller's purchases; `None` when it does not exist or is someone else's.
    ///
    /// # Errors
    /// Database failures.
    async fn purchase(
        &self,
        user: Uuid,
        purchase_id: Uuid,
    ) -> Result<Option<PurchaseView>, EconomyError>;

    /// The caller's creator plan (Starter unless a `creator_plan` purchase raised it), which
    /// sets the platform's fee on their royalties.
    ///
    /// # Errors
    /// Database failures.
    async fn creator_plan(&self, user: Uuid) -> Result<CreatorPlanView, EconomyError>;

    /// Operator: records a grant of a clone to its owner, without payment, and creates the
    /// clone in the same transaction as a paid clone creation does. A repeat with the same
    /// owner and reference finds the first grant and creates nothing.
    ///
    /// # Errors
    /// [`EconomyError::InvalidInput`] for an empty or over-long reference or an invalid name.
    async fn grant_clone(&self, grant: CloneGrant) -> Result<GrantOutcome, EconomyError>;

    /// Worker: re-checks up to `limit` due pending deposits.
    async fn recheck_pending(&self, limit: u32) -> Result<RecheckReport, EconomyError>;
}
