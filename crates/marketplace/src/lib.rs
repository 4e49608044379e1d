//! The strategy marketplace: creators upload strategies in the project's strategy format; a
//! monitoring cycle rejects exact and behavioural duplicates and strategies that fail a
//! sanity backtest; an evolution cycle backtests the rest in full, promotes or discards them
//! by documented thresholds and breeds mutation children with lineage; the shipped seed
//! strategies join at `experiment`. Royalty arithmetic for adopted strategies lives in
//! [`royalty`].
//!
//! Pure core: [`status`] (the one transition function), [`mutate`] (operators), [`evaluate`]
//! (the reference data, behaviours, correlation, robustness), [`thresholds`], [`royalty`],
//! [`seeds`]. `PgMarketplaceService` owns `user_strategies`, `strategy_status_history`,
//! `strategy_lineage` and `strategy_evaluations`.
//!
//! Must not: change a strategy's original uploader; skip [`status::transition`] for a
//! status change; read a clock or the database in the pure modules.

mod error;
pub mod evaluate;
mod models;
pub mod mutate;
mod repo;
pub mod rng;
pub mod royalty;
pub mod seeds;
mod service;
pub mod settings;
pub mod status;
pub mod thresholds;
pub mod views;

pub use error::MarketplaceError;
pub use service::{MarketplaceSettings, PgMarketplaceService};
pub use status::{StatusEvent, StrategyStatus};
pub use views::*;

/// The seed's adoption and royalty vocabulary, for economy.
pub use royalty::{CreatorPlan, LineageStep, RoyaltyPolicy, RoyaltySplit};

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

/// The marketplace.
#[async_trait]
pub trait MarketplaceService: Send + Sync {
    /// Uploads a strategy as `uploader`; it starts at `pending_review`.
    ///
    /// # Errors
    /// [`MarketplaceError::InvalidGraph`] naming each bad node, `InvalidInput`, `NotFound` for
    /// an unknown parent, `UploadLimit`.
    async fn upload(
        &self,
        uploader: Uuid,
        upload: NewStrategy,
    ) -> Result<StrategyDetail, MarketplaceError>;

    /// The strategies `viewer` sees, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn strategies(
        &self,
        viewer: Uuid,
        filter: StrategyFilter,
        page: PageRequest,
    ) -> Result<Page<StrategySummary>, MarketplaceError>;

    /// One strategy with its metrics, history and lineage.
    ///
    /// # Errors
    /// [`MarketplaceError::NotFound`] when `viewer` cannot see it.
    async fn strategy(&self, viewer: Uuid, id: Uuid) -> Result<StrategyDetail, MarketplaceError>;

    /// An administrator's review, kept in the history with its reason.
    ///
    /// # Errors
    /// `NotFound`, `InvalidTransition` (409), `InvalidInput` for a missing reason.
    async fn review(
        &self,
        admin: Uuid,
        id: Uuid,
        review: Review,
    ) -> Result<StrategyDetail, MarketplaceError>;

    /// Adopts a `proposable` strategy as the draft of `owner`'s clone, through clone-service;
    /// the draft, and the version published from it, record the strategy.
    ///
    /// # Errors
    /// [`MarketplaceError::NotFound`] when `owner` cannot see the strategy,
    /// [`MarketplaceError::NotProposable`] (409) below or past `proposable`, and clone-service's
    /// errors through [`MarketplaceError::Clone`] (`clone_not_found` for someone else's
    /// clone, `invalid_strategy_graph` or `too_many_assets` (422) when the graph does not fit
    /// the clone).
    async fn adopt(
        &self,
        owner: Uuid,
        strategy_id: Uuid,
        clone_id: Uuid,
    ) -> Result<clones_clone_service::DraftView, MarketplaceError>;

    /// Economy's royalty booking: the path from `strategy_id` to its root that shares a
    /// royalty, for [`royalty::split`]. The walk stops at the first strategy without an
    /// uploader (the project's shipped strategies and their mutation children earn nothing):
    /// empty when the strategy itself has none, and otherwise the last creator on the path
    /// takes what would have gone further up.
    ///
    /// # Errors
    /// [`MarketplaceError::NotFound`] for an unknown strategy.
    async fn royalty_path(
        &self,
        strategy_id: Uuid,
    ) -> Result<Vec<royalty::LineageStep>, MarketplaceError>;

    /// Worker: loads the shipped seed strategies that are not there yet (by fingerprint);
    /// how many were added.
    ///
    /// # Errors
    /// Database failures.
    async fn load_seeds(&self) -> Result<usize, MarketplaceError>;

    /// Worker: the monitoring cycle (duplicates and sanity for pending uploads, robustness
    /// for candidates).
    ///
    /// # Errors
    /// Database failures.
    async fn monitor(&self) -> Result<MonitorReport, MarketplaceError>;

    /// Worker: the evolution cycle number `cycle` (full backtests, promotions, discards and
    /// mutation children; deterministic for the settings' seed and `cycle`).
    ///
    /// # Errors
    /// Database failures.
    async fn evolve(&self, cycle: u64) -> Result<EvolveReport, MarketplaceError>;
}
