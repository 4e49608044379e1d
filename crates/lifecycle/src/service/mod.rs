//! The lifecycle service over PostgreSQL: audition starts, retries, voids and refund
//! authorizations, the evaluation pass, Arena admission and the read models.
//!
//! Every state change and its audit event commit in one transaction. Prop accounts are opened
//! through [`PropService`] before the row that refers to them is inserted, so a caller that
//! loses a race (the unique constraint keeps the first run) leaves an unused account behind;
//! nothing trades it, because trading assignments come from runs and memberships only.
//!
//! This module owns the settings, the service value, the helpers its parts share and the
//! [`LifecycleService`] implementation, which only delegates. The parts are [`auditions`]
//! (the owner's starts, retries and reads), [`evaluation`] (the worker's evaluation pass),
//! [`arena`] (the Promotion Queue, Arena admission, lifecycle state and the trading roster),
//! [`admin`] (voids and refund authorizations) and [`mapping`] (rows to views).

mod admin;
mod arena;
mod auditions;
mod evaluation;
mod mapping;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_clone_service::{CloneError, CloneService, CloneView};
use clones_db::Db;
use clones_economy::{EconomyService, SignedQuote};
use clones_kernel::{Clock, Page, PageRequest};
use clones_prop_engine::PropService;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::models::{RunEventRow, RunRow};
use crate::status::{AuditionEventActor, AuditionEventKind};
use crate::views::{
    ArenaMembershipView, ArenaReport, AuditionDetail, AuditionView, CloneLifecycleState,
    EvaluationReport, PromotionEntryView, RefundAuthorizationView, RuleSetView, StartAudition,
    StartedAudition, TradingAssignment, TradingContext,
};
use crate::{LifecycleError, LifecycleService};

/// How the lifecycle runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// The rule set used when a start names none.
    pub default_rule_set: String,
    /// The starting balance of an Arena prop account.
    pub arena_starting_balance: Decimal,
    /// The quote currency of an Arena prop account.
    pub arena_quote_currency: String,
    /// How long a worker holds a leased run or queue entry before another may take it.
    pub lease: Duration,
    /// How long after a window's end its verdict waits for a snapshot taken after the end
    /// (which proves every snapshot of the window was judged) before closing without one.
    pub close_grace: Duration,
    /// Snapshots read per run and evaluation pass, 1 to [`PageRequest::MAX_LIMIT`] (a value
    /// outside is clamped).
    pub snapshot_page: u32,
    /// Fills read per run and evaluation pass, 1 to [`PageRequest::MAX_LIMIT`] (a value
    /// outside is clamped).
    pub fill_page: u32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            default_rule_set: "standard".into(),
            arena_starting_balance: Decimal::from(100_000),
            arena_quote_currency: "USDC".into(),
            lease: Duration::minutes(5),
            close_grace: Duration::minutes(2),
            snapshot_page: PageRequest::MAX_LIMIT,
            fill_page: PageRequest::MAX_LIMIT,
        }
    }
}

/// The PostgreSQL lifecycle service.
#[derive(Clone)]
pub struct PgLifecycleService {
    db: Db,
    clock: Arc<dyn Clock>,
    clones: Arc<dyn CloneService>,
    prop: Arc<dyn PropService>,
    economy: Arc<dyn EconomyService>,
    settings: Arc<LifecycleSettings>,
}

impl std::fmt::Debug for PgLifecycleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLifecycleService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A stored value this code cannot read; logged here, answered as an internal error, never
/// coerced to a default.
pub(crate) fn corrupt(what: impl Into<String>) -> LifecycleError {
    let what = what.into();
    tracing::error!(problem = %what, "corrupt lifecycle row");
    LifecycleError::Corrupt(what)
}

fn to_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or_default()
}

/// Who acted on a run.
#[derive(Debug, Clone, Copy)]
enum Actor {
    Owner(Uuid),
    Admin(Uuid),
    Worker,
}

fn event(
    run: &RunRow,
    kind: AuditionEventKind,
    actor: Actor,
    reason: Option<&str>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> RunEventRow {
    let (actor_name, actor_user_id) = match actor {
        Actor::Owner(user) => (AuditionEventActor::Owner, Some(user)),
        Actor::Admin(user) => (AuditionEventActor::Admin, Some(user)),
        Actor::Worker => (AuditionEventActor::Worker, None),
    };
    RunEventRow {
        id: Uuid::new_v4(),
        seq: 0,
        run_id: run.id,
        owner_user_id: run.owner_user_id,
        kind: kind.as_str().into(),
        actor_user_id,
        actor: actor_name.as_str().into(),
        reason: reason.map(str::to_string),
        details,
        created_at: now,
    }
}

impl PgLifecycleService {
    /// A service over `db`, reading time from `clock`, clones from `clones`, prop accounts
    /// from `prop` and purchases from `economy`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        clones: Arc<dyn CloneService>,
        prop: Arc<dyn PropService>,
        economy: Arc<dyn EconomyService>,
        settings: LifecycleSettings,
    ) -> Self {
        Self {
            db,
            clock,
            clones,
            prop,
            economy,
            settings: Arc::new(settings),
        }
    }

    /// The caller's clone; someone else's is not found.
    async fn owned_clone(&self, user: Uuid, clone_id: Uuid) -> Result<CloneView, LifecycleError> {
        match self.clones.get_clone(user, clone_id).await {
            Ok(clone) => Ok(clone),
            Err(CloneError::CloneNotFound) => Err(LifecycleError::CloneNotFound),
            Err(error) => Err(error.into()),
        }
    }
}

#[async_trait]
impl LifecycleService for PgLifecycleService {
    async fn rule_sets(&self) -> Result<Vec<RuleSetView>, LifecycleError> {
        self.rule_sets_impl().await
    }

    async fn audition_quote(
        &self,
        user: Uuid,
        clone_id: Uuid,
        payer_address: &str,
    ) -> Result<SignedQuote, LifecycleError> {
        self.audition_quote_impl(user, clone_id, payer_address)
            .await
    }

    async fn start_audition(
        &self,
        user: Uuid,
        clone_id: Uuid,
        request: StartAudition,
    ) -> Result<StartedAudition, LifecycleError> {
        self.start_audition_impl(user, clone_id, request).await
    }

    async fn auditions(
        &self,
        user: Uuid,
        clone_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<AuditionView>, LifecycleError> {
        self.auditions_impl(user, clone_id, page).await
    }

    async fn audition(&self, user: Uuid, run_id: Uuid) -> Result<AuditionDetail, LifecycleError> {
        self.audition_impl(user, run_id).await
    }

    async fn retry(&self, user: Uuid, run_id: Uuid) -> Result<StartedAudition, LifecycleError> {
        self.retry_impl(user, run_id).await
    }

    async fn promotion_entry(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<PromotionEntryView, LifecycleError> {
        self.promotion_entry_impl(user, clone_id).await
    }

    async fn arena_membership(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<ArenaMembershipView, LifecycleError> {
        self.arena_membership_impl(user, clone_id).await
    }

    async fn clone_state(
        &self,
        user: Uuid,
        clone_id: Uuid,
    ) -> Result<CloneLifecycleState, LifecycleError> {
        self.clone_state_impl(user, clone_id).await
    }

    async fn void_audition(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<AuditionView, LifecycleError> {
        self.void_audition_impl(admin, run_id, reason).await
    }

    async fn authorize_refund(
        &self,
        admin: Uuid,
        run_id: Uuid,
        reason: &str,
    ) -> Result<RefundAuthorizationView, LifecycleError> {
        self.authorize_refund_impl(admin, run_id, reason).await
    }

    async fn refund_authorizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<RefundAuthorizationView>, LifecycleError> {
        self.refund_authorizations_impl(page).await
    }

    async fn evaluate_running(&self, batch: u32) -> Result<EvaluationReport, LifecycleError> {
        self.evaluate_running_impl(batch).await
    }

    async fn sync_arena_entries(&self, batch: u32) -> Result<ArenaReport, LifecycleError> {
        self.sync_arena_entries_impl(batch).await
    }

    async fn trading_assignments(
        &self,
        after: Option<(TradingContext, Uuid)>,
        limit: u32,
    ) -> Result<Vec<TradingAssignment>, LifecycleError> {
        self.trading_assignments_impl(after, limit).await
    }
}
