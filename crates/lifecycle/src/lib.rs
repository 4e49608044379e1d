//! Lifecycle: paid auditions, their evaluation, and the way from a passed audition to the Arena.
//!
//! This crate owns audition rule sets (data, prop-firm style), audition runs with their
//! incremental evaluation state, the append-only audition event trail, refund authorizations,
//! the Promotion Queue and Arena memberships. It starts an audition for a verified
//! `audition_fee` purchase (read through [`clones_economy::EconomyService`]) on a fresh prop
//! account (opened through [`clones_prop_engine::PropService`]), judges the account's
//! mark-to-market snapshots and fills against the rules ([`rules`], pure), queues passed clones
//! for promotion and admits them to the Arena when their public profile is approved (read
//! through [`clones_clone_service::CloneService`]). It also tells the decision worker which
//! accounts to trade ([`LifecycleService::trading_assignments`]) and clone-service which
//! display state a clone is in ([`PgCompetitionFacts`]).
//!
//! It never executes trades or recomputes execution math (prop-engine does), never verifies
//! payments or pays refunds out (economy does), and never writes another context's tables.
//!
//! Owner methods take the caller's user id and answer "not found" for someone else's clone
//! or audition. Admin and worker methods run in audited cross-tenant transactions; callers
//! check roles before calling them.

mod error;
mod facts;
mod models;
mod repo;
pub mod rules;
mod service;
pub mod status;
pub mod views;

use async_trait::async_trait;
use clones_economy::SignedQuote;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

pub use error::LifecycleError;
pub use facts::PgCompetitionFacts;
pub use rules::{Basis, DrawdownMode, FailureRule};
pub use service::{LifecycleSettings, PgLifecycleService};
pub use status::{
    AuditionEventActor, AuditionEventKind, MembershipStatus, RefundStatus, SkipReason,
};
pub use views::*;

/// Auditions, the Promotion Queue and the Arena.
#[async_trait]
pub trait LifecycleService: Send + Sync {
    /// Every rule set, active or not, by code.
    async fn rule_sets(&self) -> Result<Vec<RuleSetView>, LifecycleError>;

    /// Owner: a signed `audition_fee` quote for the caller's clone, paid from `payer_address`
    /// (one of the caller's wallets). The clone must have a published strategy version.
    async fn audition_quote(
        &self,
        user: Uuid,
        clone_id: Uuid,
        payer_address: &str,
    ) -> Result<SignedQuote, LifecycleError>;

    /// Owner: starts the audition a verified `audition_fee` purchase paid for, on a fresh
    /// prop account. A repeat of the same purchase returns its run with `created = false`.
    async fn start_audition(
        &self,
        user: Uuid,
        clone_id: Uuid,
        request: StartAudition,
    ) -> Result<StartedAudition, LifecycleError>;

    /// Owner: the clone's auditions, newest first by (creation time, id), one page at a time.
    async fn auditions(
        &self,
        user: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<AuditionView>, LifecycleError>;

    /// Owner: one audition with its progress and audit trail.
    async fn audition(&self, user: Uuid, run_id: Uuid) -> Result<AuditionDetail, LifecycleError>;

    /// Owner: retries a failed audition (when its rules allow it) as the next attempt of
    /// the same purchase, on a fresh account and window. A repeat returns that attempt with
    /// `created = false`.
    async fn retry(&self, user: Uuid, run_id: Uuid) -> Result<StartedAudition, LifecycleError>;

    /// Owner: the clone's latest Promotion Queue entry.
    async fn promotion_entry(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<PromotionEntryView, LifecycleError>;

    /// Owner: the clone's Arena membership (the active one, else the latest).
    async fn arena_membership(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<ArenaMembershipView, LifecycleError>;

    /// Owner: the clone's product-facing lifecycle state (derived from its setup, its latest
    /// audition, its Promotion Queue entry and its Arena membership) with those facts.
    async fn clone_state(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<CloneLifecycleState, LifecycleError>;

    /// Admin: voids a running or failed audition; a running one stops trading.
    async fn void_audition(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<AuditionView, LifecycleError>;

    /// Admin: authorizes the refund of the audition's fee, voiding a running or failed
    /// audition in the same transaction. One authorization per purchase.
    async fn authorize_refund(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<RefundAuthorizationView, LifecycleError>;

    /// Admin: refund authorizations, newest first by (creation time, id), one page at a time.
    async fn refund_authorizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<RefundAuthorizationView>, LifecycleError>;

    /// Worker: evaluates up to `batch` running auditions (leased, SKIP LOCKED) against their
    /// new snapshots and fills; a pass queues the clone for promotion in the same transaction.
    async fn evaluate_running(&self, batch: u32) -> Result<EvaluationReport, LifecycleError>;

    /// Worker: tries to admit up to `batch` queued clones to the Arena.
    async fn sync_arena_entries(&self, batch: u32) -> Result<ArenaReport, LifecycleError>;

    /// Worker: the accounts clones should trade now, one page at a time in a stable order:
    /// running auditions inside their window, then active Arena memberships, each by id. A
    /// page starts after `after` (the last assignment of the previous page: its context and
    /// reference id) and holds at most `limit`.
    async fn trading_assignments(
        &self,
        after: Option<(TradingContext, Uuid)>,
        limit: u32,
    ) -> Result<Vec<TradingAssignment>, LifecycleError>;
}
