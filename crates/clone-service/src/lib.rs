//! Clones: who owns a clone and which strategy and entitlement runtime modules use.
//!
//! This crate owns clones (owner, private operational name, model, internal status), one
//! editable strategy draft per clone, immutable published versions with exactly one active,
//! the effective entitlement projection, the trade universe and asset selection rules, public
//! profiles, reports and the append-only moderation audit. Owner reads and writes run as the
//! owner's tenant under row-level security; public profile reads run with no tenant; moderation
//! uses the audited cross-tenant path.
//!
//! It does not execute trades, verify payments, price auditions or decide lifecycle outcomes,
//! and it has no create route: economy creates paid clones through [`provisioning`] inside the
//! purchase's own transaction.

pub mod display;
pub mod entitlement;
mod error;
mod models;
pub mod profile;
pub mod provisioning;
mod repo;
mod service;
pub mod status;
pub mod strategy;
pub mod views;

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

pub use display::{CompetitionFacts, DisplayState, NoCompetitionFacts};
pub use entitlement::{
    EffectiveEntitlement, EntitlementGrant, EntitlementSource, EntitlementStatus, Tier,
};
pub use error::CloneError;
pub use service::PgCloneService;
pub use status::{CloneStatus, ModerationAction, ModerationActor, ProfileStatus, ReportStatus};
pub use views::*;

/// Clone operations for owners, the public and moderators.
#[async_trait]
pub trait CloneService: Send + Sync {
    /// The owner's clones, oldest first by (creation time, id), one page at a time.
    ///
    /// # Errors
    /// Database failures.
    async fn list_clones(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<CloneView>, CloneError>;

    /// One of the owner's clones (someone else's is not found).
    async fn get_clone(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneView, CloneError>;

    /// Renames the clone or changes its model (within the entitlement's model strength).
    async fn update_clone(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        patch: ClonePatch,
    ) -> Result<CloneView, CloneError>;

    /// The draft, or the default graph when none was saved.
    async fn get_draft(&self, owner: Uuid, clone_id: Uuid) -> Result<DraftView, CloneError>;

    /// Validates and saves the draft; a hand edit clears the marketplace strategy an adopted
    /// draft came from.
    async fn save_draft(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        graph: serde_json::Value,
    ) -> Result<DraftView, CloneError>;

    /// Validates and saves `graph` as the draft, recording the marketplace strategy it is
    /// adopted from; the version published from this draft records it too. Clone-service
    /// does not know the marketplace: the caller vouches for the origin.
    ///
    /// # Errors
    /// As [`CloneService::save_draft`].
    async fn adopt_draft(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        graph: serde_json::Value,
        marketplace_strategy_id: Uuid,
    ) -> Result<DraftView, CloneError>;

    /// Publishes the draft as the next immutable version and makes it the active one.
    async fn publish(&self, owner: Uuid, clone_id: Uuid) -> Result<VersionView, CloneError>;

    /// Published versions, newest (highest number) first, one page at a time. The cursor names
    /// a page's last version by its publish time and id.
    ///
    /// # Errors
    /// `clone_not_found`; `invalid_page` for a cursor that names no version of this clone.
    async fn list_versions(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<VersionView>, CloneError>;

    /// One published version by its number.
    ///
    /// # Errors
    /// `clone_not_found`, `strategy_version_not_found`.
    async fn version(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        version: i32,
    ) -> Result<VersionView, CloneError>;

    /// The effective entitlement.
    async fn entitlement(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<EffectiveEntitlement, CloneError>;

    /// Runtime modules (decisions, backtests): the model, the active version, the entitlement
    /// and the trade universe, in one transaction as the owner.
    async fn runtime(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneRuntime, CloneError>;

    /// [`CloneService::runtime`] of many clones, each named with its owner, in a fixed number
    /// of reads (a system caller: the decision cycle). One answer per clone, in the order
    /// given; a clone that is not its named owner's is [`CloneError::CloneNotFound`].
    ///
    /// # Errors
    /// When the reads fail or a stored row cannot be read.
    async fn runtimes(
        &self,
        clones: Vec<(Uuid, Uuid)>,
    ) -> Result<Vec<Result<CloneRuntime, CloneError>>, CloneError>;

    /// The trade universe and selection rule.
    async fn trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<TradeUniverse, CloneError>;

    /// Replaces the trade universe and selection rule.
    async fn set_trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        universe: TradeUniverse,
    ) -> Result<TradeUniverse, CloneError>;

    /// The owner's view of the public profile.
    async fn own_profile(&self, owner: Uuid, clone_id: Uuid) -> Result<ProfileView, CloneError>;

    /// Submits or updates the public profile (approved at once unless retired).
    async fn submit_profile(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        submission: ProfileSubmission,
    ) -> Result<ProfileView, CloneError>;

    /// An approved public profile, for anyone.
    async fn public_profile(&self, clone_id: Uuid) -> Result<PublicProfile, CloneError>;

    /// Reports a public profile (not one's own).
    async fn report(
        &self,
        reporter: Uuid,
        clone_id: Uuid,
        submission: ReportSubmission,
    ) -> Result<ReportView, CloneError>;

    /// Admin: reports by status, oldest first by (creation time, id), one page at a time.
    ///
    /// # Errors
    /// `invalid_input` for an unknown status, database failures.
    async fn reports(
        &self,
        status: Option<String>,
        page: PageRequest,
    ) -> Result<Page<ReportView>, CloneError>;

    /// Admin: dismisses or actions a report (optionally retiring the clone).
    async fn resolve_report(
        &self,
        admin: Uuid,
        report_id: Uuid,
        resolution: ReportResolution,
    ) -> Result<ReportView, CloneError>;

    /// Admin: retires a clone and its public profile.
    async fn retire(&self, admin: Uuid, clone_id: Uuid, reason: String) -> Result<(), CloneError>;

    /// Admin: reinstates a retired clone and its profile.
    async fn reinstate(
        &self,
        admin: Uuid,
        clone_id: Uuid,
        reason: String,
    ) -> Result<(), CloneError>;

    /// Admin: the clone's moderation history, oldest first in the order it was written, one
    /// page at a time. The cursor names a page's last entry by its time and id.
    ///
    /// # Errors
    /// `clone_not_found`; `invalid_page` for a cursor that names no entry of this clone.
    async fn moderation_history(
        &self,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<ModerationEntry>, CloneError>;

    /// Operator: makes a manual or debug grant the clone's effective entitlement.
    async fn grant_entitlement(
        &self,
        grant: EntitlementGrant,
    ) -> Result<EffectiveEntitlement, CloneError>;
}
