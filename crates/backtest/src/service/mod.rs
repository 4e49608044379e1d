//! [`PgBacktestService`]: the backtest context over PostgreSQL, split by seam: `create`
//! (requests, limits, usage, preview), `reads` (owner reads and cancel), `market` (bars from
//! market memory), `runner` (the worker's queue and runs) and `spec` (the frozen job).

mod create;
mod market;
mod reads;
mod runner;

pub use runner::{JobOutcome, LeasedJob};
mod spec;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_clone_service::CloneService;
use clones_db::Db;
use clones_ingest::MarketData;
use clones_kernel::{Clock, Page, PageRequest};
use clones_prop_engine::PropService;
use diesel::PgConnection;
use uuid::Uuid;

use crate::policy::JobSettings;
use crate::views::{
    Artifact, ArtifactKind, ArtifactView, CreateBacktest, JobDetail, JobView, PreviewBacktest,
    PreviewView, WorkReport,
};
use crate::{BacktestService, JobError};

/// The backtest service over PostgreSQL.
pub struct PgBacktestService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    prop: Arc<dyn PropService>,
    market: Arc<dyn MarketData>,
    settings: Arc<JobSettings>,
}

impl std::fmt::Debug for PgBacktestService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBacktestService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PgBacktestService {
    /// A service reading clones, paper accounts and market memory through their contexts.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        prop: Arc<dyn PropService>,
        market: Arc<dyn MarketData>,
        settings: JobSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            prop,
            market,
            settings: Arc::new(settings),
        }
    }

    /// Runs `work` as `owner` (row-level security applies), with the time it started.
    async fn as_owner<T, F>(&self, owner: Uuid, work: F) -> Result<T, JobError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, JobError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .tenant_transaction(owner, move |conn| work(conn, now))
            .await
    }

    /// Runs `work` on the audited cross-tenant path of the worker.
    async fn as_worker<T, F>(&self, work: F) -> Result<T, JobError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, JobError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .cross_tenant_transaction(
                "backtest worker: queue, results and retention",
                move |conn| work(conn, now),
            )
            .await
    }
}

#[async_trait]
impl BacktestService for PgBacktestService {
    async fn create(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        request: CreateBacktest,
    ) -> Result<JobView, JobError> {
        create::create(self, owner, clone_id, request).await
    }

    async fn jobs(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<JobView>, JobError> {
        reads::jobs(self, owner, clone_id, page).await
    }

    async fn job(&self, owner: Uuid, clone_id: Uuid, job_id: Uuid) -> Result<JobDetail, JobError> {
        reads::job(self, owner, clone_id, job_id).await
    }

    async fn cancel(&self, owner: Uuid, clone_id: Uuid, job_id: Uuid) -> Result<JobView, JobError> {
        reads::cancel(self, owner, clone_id, job_id).await
    }

    async fn artifacts(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        job_id: Uuid,
    ) -> Result<Vec<ArtifactView>, JobError> {
        reads::artifacts(self, owner, clone_id, job_id).await
    }

    async fn artifact(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        job_id: Uuid,
        kind: ArtifactKind,
    ) -> Result<Artifact, JobError> {
        reads::artifact(self, owner, clone_id, job_id, kind).await
    }

    async fn preview(
        &self,
        owner: Uuid,
        clone_id: Uuid,
        request: PreviewBacktest,
    ) -> Result<PreviewView, JobError> {
        create::preview(self, owner, clone_id, request).await
    }

    async fn work(&self, capacity: u32) -> Result<WorkReport, JobError> {
        runner::work(self, capacity).await
    }

    async fn expire_leases(&self) -> Result<(usize, usize, usize), JobError> {
        runner::expire(self).await
    }

    async fn lease(&self, capacity: u32) -> Result<Vec<LeasedJob>, JobError> {
        runner::lease(self, capacity).await
    }

    async fn run_leased(&self, job: LeasedJob) -> JobOutcome {
        runner::run_leased(self, job).await
    }
}
