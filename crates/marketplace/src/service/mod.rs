//! [`PgMarketplaceService`]: the marketplace over PostgreSQL, split by seam: `public` (upload,
//! reads, reviews) and `cycles` (seeds, monitoring, evolution). Status changes go through
//! [`change_status`], which applies [`transition`] and appends the history row.

mod adoption;
mod cycles;
mod public;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_clone_service::{CloneService, DraftView};
use clones_db::Db;
use clones_kernel::{Clock, Page, PageRequest};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{HistoryRow, StrategyRow};
use crate::status::{StatusEvent, StrategyStatus, transition};
use crate::views::{
    EvolveReport, MonitorReport, NewStrategy, Review, StrategyDetail, StrategyFilter,
    StrategySummary,
};
use crate::{MarketplaceError, MarketplaceService, repo};

/// How the marketplace runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketplaceSettings {
    /// Uploads one creator may make per hour.
    pub uploads_per_hour: u32,
    /// Pending strategies the monitoring cycle checks per pass.
    pub monitor_batch: i64,
    /// Strategies the evolution cycle backtests per pass.
    pub evolve_batch: i64,
    /// Mutation children the evolution cycle makes per pass, at most.
    pub children_per_cycle: usize,
    /// Mutation children one strategy may have, at most.
    pub children_per_strategy: i64,
    /// The evolution cycle's seed: the same seed and cycle numbers breed the same children.
    pub evolution_seed: u64,
    /// Percent of a fork's royalty its parent's uploader receives under `lineage_split`.
    pub fork_parent_percent: Decimal,
    /// Percent a mutation child passes to its parent (the same uploader, unless a fork
    /// sits between them).
    pub mutation_parent_percent: Decimal,
}

impl Default for MarketplaceSettings {
    fn default() -> Self {
        Self {
            uploads_per_hour: 10,
            monitor_batch: 20,
            evolve_batch: 10,
            children_per_cycle: 5,
            children_per_strategy: 3,
            evolution_seed: 2026,
            fork_parent_percent: Decimal::from(20),
            mutation_parent_percent: Decimal::from(50),
        }
    }
}

/// The marketplace over PostgreSQL.
pub struct PgMarketplaceService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    settings: MarketplaceSettings,
}

impl std::fmt::Debug for PgMarketplaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgMarketplaceService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PgMarketplaceService {
    /// A service over `db`; adoption writes clone drafts through `clones`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        settings: MarketplaceSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            settings,
        }
    }
}

pub(crate) fn status_of(row: &StrategyRow) -> Result<StrategyStatus, MarketplaceError> {
    StrategyStatus::parse(&row.status).ok_or_else(|| {
        MarketplaceError::Corrupt(format!("strategy {} status {}", row.id, row.status))
    })
}

/// Applies `event` to the locked `row` and appends the history row; returns the new status.
pub(crate) fn change_status(
    conn: &mut PgConnection,
    row: &StrategyRow,
    event: StatusEvent,
    reason: &str,
    actor: Option<Uuid>,
    duplicate_of: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StrategyStatus, MarketplaceError> {
    let from = status_of(row)?;
    let to = transition(from, event)?;
    repo::set_status(conn, row.id, to.as_str(), duplicate_of, now)?;
    repo::insert_history(
        conn,
        &HistoryRow {
            id: Uuid::new_v4(),
            strategy_id: row.id,
            from_status: Some(from.as_str().into()),
            to_status: to.as_str().into(),
            event: event.as_str().into(),
            reason: reason.chars().take(500).collect(),
            actor_user_id: actor,
            created_at: now,
        },
    )?;
    Ok(to)
}

/// The creation of a strategy in the history (`upload`, `seed` or `mutation`).
pub(crate) fn record_creation(
    conn: &mut PgConnection,
    row: &StrategyRow,
    event: &str,
    reason: &str,
) -> Result<(), MarketplaceError> {
    repo::insert_history(
        conn,
        &HistoryRow {
            id: Uuid::new_v4(),
            strategy_id: row.id,
            from_status: None,
            to_status: row.status.clone(),
            event: event.into(),
            reason: reason.into(),
            actor_user_id: None,
            created_at: row.created_at,
        },
    )?;
    Ok(())
}

#[async_trait]
impl MarketplaceService for PgMarketplaceService {
    async fn upload(
        &self,
        uploader: Uuid,
        upload: NewStrategy,
    ) -> Result<StrategyDetail, MarketplaceError> {
        public::upload(self, uploader, upload).await
    }

    async fn strategies(
        &self,
        viewer: Uuid,
        filter: StrategyFilter,
        page: PageRequest,
    ) -> Result<Page<StrategySummary>, MarketplaceError> {
        public::list(self, viewer, filter, page).await
    }

    async fn strategy(&self, viewer: Uuid, id: Uuid) -> Result<StrategyDetail, MarketplaceError> {
        public::read(self, viewer, id).await
    }

    async fn review(
        &self,
        admin: Uuid,
        id: Uuid,
        review: Review,
    ) -> Result<StrategyDetail, MarketplaceError> {
        public::review(self, admin, id, review).await
    }

    async fn adopt(
        &self,
        owner: Uuid,
        strategy_id: Uuid,
        clone_id: Uuid,
    ) -> Result<DraftView, MarketplaceError> {
        adoption::adopt(self, owner, strategy_id, clone_id).await
    }

    async fn royalty_path(
        &self,
        strategy_id: Uuid,
    ) -> Result<Vec<crate::royalty::LineageStep>, MarketplaceError> {
        adoption::royalty_path(self, strategy_id).await
    }

    async fn load_seeds(&self) -> Result<usize, MarketplaceError> {
        cycles::load_seeds(self).await
    }

    async fn monitor(&self) -> Result<MonitorReport, MarketplaceError> {
        cycles::monitor(self).await
    }

    async fn evolve(&self, cycle: u64) -> Result<EvolveReport, MarketplaceError> {
        cycles::evolve(self, cycle).await
    }
}
