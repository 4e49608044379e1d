//! The clone service: the [`CloneService`] trait's PostgreSQL implementation.
//!
//! This module owns the service value, its two transaction paths (acting for an owner, or on
//! the audited cross-tenant path) and the trait implementation, which hands each method to the
//! seam that owns it: [`clones`] (listing, reading and editing clones, the runtime view),
//! [`versions`] (drafts and published strategy versions), [`capacity`] (entitlements and the
//! trade universe), [`profiles`] (public profiles), [`moderation`] (reports, retirement,
//! reinstatement, the audit history) and [`mapping`] (stored rows to views). Only `repo` touches
//! the tables; every seam reads the clock through the transaction paths here.

mod capacity;
mod clones;
mod mapping;
mod moderation;
mod profiles;
mod versions;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Page, PageRequest};
use diesel::PgConnection;
use uuid::Uuid;

use crate::display::CompetitionFacts;
use crate::entitlement::{EffectiveEntitlement, EntitlementGrant};
use crate::models::CloneRow;
use crate::views::{
    ClonePatch, CloneRuntime, CloneView, DraftView, ModerationEntry, ProfileSubmission,
    ProfileView, PublicProfile, ReportResolution, ReportSubmission, ReportView, TradeUniverse,
    VersionView,
};
use crate::{CloneError, CloneService, repo};

pub(crate) use capacity::effective;

/// [`CloneService`] over PostgreSQL.
#[derive(Clone)]
pub struct PgCloneService {
    db: Db,
    clock: Arc<dyn Clock>,
    competition: Arc<dyn CompetitionFacts>,
}

impl std::fmt::Debug for PgCloneService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCloneService").finish_non_exhaustive()
    }
}

impl PgCloneService {
    /// A service over `db`; competition facts come from `competition` (the lifecycle context,
    /// or [`crate::NoCompetitionFacts`]).
    pub fn new(db: Db, clock: Arc<dyn Clock>, competition: Arc<dyn CompetitionFacts>) -> Self {
        Self {
            db,
            clock,
            competition,
        }
    }

    /// Runs `work` acting for the owner on the blocking pool.
    async fn as_owner<T, F>(&self, owner: Uuid, work: F) -> Result<T, CloneError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, CloneError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .tenant_transaction(owner, move |conn| work(conn, now))
            .await
    }

    /// Runs `work` on the audited cross-tenant path.
    async fn as_moderator<T, F>(&self, purpose: &'static str, work: F) -> Result<T, CloneError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, CloneError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction(purpose, move |conn| work(conn, now))
            .await
    }
}

/// The owner's clone, or not found (also when it is someone else's).
fn owned_clone(conn: &mut PgConnection, owner: Uuid, id: Uuid) -> Result<CloneRow, CloneError> {
    repo::find_clone(conn, id)?
        .filter(|clone| clone.owner_user_id == owner)
        .ok_or(CloneError::CloneNotFound)
}

#[async_trait]
impl CloneService for PgCloneService {
    async fn list_clones(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<CloneView>, CloneError> {
        clones::list(self, owner, page).await
    }

    async fn get_clone(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneView, CloneError> {
        clones::get(self, owner, clone_id).await
    }

    async fn update_clone(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        patch: ClonePatch,
    ) -> Result<CloneView, CloneError> {
        clones::update(self, owner, clone_id, patch).await
    }

    async fn get_draft(&self, owner: Uuid, clone_id: Uuid) -> Result<DraftView, CloneError> {
        versions::draft(self, owner, clone_id).await
    }

    async fn save_draft(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        graph: serde_json::Value,
    ) -> Result<DraftView, CloneError> {
        versions::save_draft(self, owner, clone_id, graph, None).await
    }

    async fn adopt_draft(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        graph: serde_json::Value,
        marketplace_strategy_id: Uuid,
    ) -> Result<DraftView, CloneError> {
        versions::save_draft(self, owner, clone_id, graph, Some(marketplace_strategy_id)).await
    }

    async fn publish(&self, owner: Uuid, clone_id: Uuid) -> Result<VersionView, CloneError> {
        versions::publish(self, owner, clone_id).await
    }

    async fn list_versions(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<VersionView>, CloneError> {
        versions::list(self, owner, clone_id, page).await
    }

    async fn version(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        version: i32,
    ) -> Result<VersionView, CloneError> {
        versions::one(self, owner, clone_id, version).await
    }

    async fn entitlement(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<EffectiveEntitlement, CloneError> {
        capacity::entitlement(self, owner, clone_id).await
    }

    async fn runtime(&self, owner: Uuid, clone_id: Uuid) -> Result<CloneRuntime, CloneError> {
        clones::runtime(self, owner, clone_id).await
    }

    async fn runtimes(
        &self,
        clones: Vec<(Uuid, Uuid)>,
    ) -> Result<Vec<Result<CloneRuntime, CloneError>>, CloneError> {
        clones::runtimes(self, clones).await
    }

    async fn trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
    ) -> Result<TradeUniverse, CloneError> {
        capacity::universe(self, owner, clone_id).await
    }

    async fn set_trade_universe(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        universe: TradeUniverse,
    ) -> Result<TradeUniverse, CloneError> {
        capacity::set_universe(self, owner, clone_id, universe).await
    }

    async fn own_profile(&self, owner: Uuid, clone_id: Uuid) -> Result<ProfileView, CloneError> {
        profiles::own(self, owner, clone_id).await
    }

    async fn submit_profile(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        submission: ProfileSubmission,
    ) -> Result<ProfileView, CloneError> {
        profiles::submit(self, owner, clone_id, submission).await
    }

    async fn public_profile(&self, clone_id: Uuid) -> Result<PublicProfile, CloneError> {
        profiles::public(self, clone_id).await
    }

    async fn report(
        &self,
        reporter: Uuid,
        clone_id: Uuid,
        submission: ReportSubmission,
    ) -> Result<ReportView, CloneError> {
        moderation::report(self, reporter, clone_id, submission).await
    }

    async fn reports(
        &self,
        status: Option<String>,
        page: PageRequest,
    ) -> Result<Page<ReportView>, CloneError> {
        moderation::reports(self, status, page).await
    }

    async fn resolve_report(
        &self,
        admin: Uuid,
        report_id: Uuid,
        resolution: ReportResolution,
    ) -> Result<ReportView, CloneError> {
        moderation::resolve(self, admin, report_id, resolution).await
    }

    async fn retire(&self, admin: Uuid, clone_id: Uuid, reason: String) -> Result<(), CloneError> {
        moderation::retire(self, admin, clone_id, reason).await
    }

    async fn reinstate(
        &self,
        admin: Uuid,
        clone_id: Uuid,
        reason: String,
    ) -> Result<(), CloneError> {
        moderation::reinstate(self, admin, clone_id, reason).await
    }

    async fn moderation_history(
        &self,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<ModerationEntry>, CloneError> {
        moderation::history(self, clone_id, page).await
    }

    async fn grant_entitlement(
        &self,
        grant: EntitlementGrant,
    ) -> Result<EffectiveEntitlement, CloneError> {
        capacity::grant(self, grant).await
    }
}
