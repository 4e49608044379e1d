//! The prop service over PostgreSQL: order execution in one transaction per order, owner
//! reads, funding and settlement, reconciliation, admin actions and mark-to-market.
//!
//! This module owns the settings, the service value, the helpers its parts share and the
//! [`PropService`] implementation, which only delegates. The parts are [`execution`] (opening
//! accounts, placing orders), [`carry`] (funding and settlement), [`mtm`] (marks and equity
//! snapshots), [`admin`] (reconciliation, halt, resume, adjustments, the audit log),
//! [`reads`] (owner reads), [`batch`] (many accounts' orders in one transaction) and
//! [`mapping`] (rows to views).

mod admin;
mod batch;
mod carry;
mod coalesce;
mod execution;
mod held;
mod mapping;
mod mtm;
mod reads;
mod round;

pub use coalesce::OrderLaneSettings;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Page, PageRequest};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::feed::MarketFeed;
use crate::fill::FillConfig;
use crate::models::AccountRow;
use crate::views::{
    AccountView, ArenaProfit, AuditEntry, BatchOrder, CarryReport, EquityPoint, FillView,
    LedgerEventView, MtmReport, OpenAccount, OrderOutcome, OrderRequest, OrderView, PositionView,
    ReconcileReport, TradingState,
};
use crate::{PropError, PropService, repo};

/// The largest size, price or amount accepted (rust_decimal and NUMERIC(28, 10) both hold it).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// The longest decision action id.
pub const MAX_ACTION_ID_LEN: usize = 128;

/// How the engine executes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropSettings {
    /// Fill simulation and fees.
    pub fill: FillConfig,
    /// The platform kill switch: when on, every order is rejected with `kill_switch`.
    pub kill_switch: bool,
}

/// The PostgreSQL prop service.
#[derive(Clone)]
pub struct PgPropService {
    db: Db,
    clock: Arc<dyn Clock>,
    feed: Arc<dyn MarketFeed>,
    settings: Arc<PropSettings>,
    held: Arc<held::HeldHints>,
    /// Concurrent single orders executed together, when on.
    lanes: Option<Arc<coalesce::OrderLanes>>,
}

impl std::fmt::Debug for PgPropService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPropService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A stored value this code cannot read, answered as an internal error.
fn corrupt(what: impl Into<String>) -> PropError {
    PropError::Corrupt(what.into())
}

/// The account, if it is visible in the connection's scope (the owner's, or any when
/// cross-tenant).
fn owned_account(conn: &mut PgConnection, account_id: Uuid) -> Result<AccountRow, PropError> {
    repo::find_account(conn, account_id)?.ok_or(PropError::AccountNotFound)
}

impl PgPropService {
    /// A service over `db`, reading time from `clock` and markets from `feed`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        feed: Arc<dyn MarketFeed>,
        settings: PropSettings,
    ) -> Self {
        Self {
            db,
            clock,
            feed,
            settings: Arc::new(settings),
            held: Arc::default(),
            lanes: None,
        }
    }

    /// Runs `work` in the owner's tenant transaction on one of the owner's accounts; someone
    /// else's account is not found.
    async fn owner_read<T, F>(&self, owner: Uuid, account_id: Uuid, work: F) -> Result<T, PropError>
    where
        F: FnOnce(&mut PgConnection, &AccountRow) -> Result<T, PropError> + Send + 'static,
        T: Send + 'static,
    {
        self.db
            .tenant_transaction(owner, move |conn| {
                let account = owned_account(conn, account_id)?;
                work(conn, &account)
            })
            .await
    }
}

#[async_trait]
impl PropService for PgPropService {
    async fn open_account(
        &self,
        owner: Uuid,
        request: OpenAccount,
    ) -> Result<AccountView, PropError> {
        self.open_account_impl(owner, request).await
    }

    async fn place_order(
        &self,
        owner: Uuid,
        account_id: Uuid,
        request: OrderRequest,
    ) -> Result<OrderOutcome, PropError> {
        self.place_order_routed(owner, account_id, request).await
    }

    async fn fees_paid(&self, owner: Uuid, account_id: Uuid) -> Result<Decimal, PropError> {
        self.fees_paid_impl(owner, account_id).await
    }

    async fn trading_states(
        &self,
        accounts: Vec<(Uuid, Uuid)>,
    ) -> Result<Vec<Option<TradingState>>, PropError> {
        self.trading_states_impl(accounts).await
    }

    async fn place_orders(
        &self,
        orders: Vec<BatchOrder>,
    ) -> Result<Vec<Result<OrderOutcome, PropError>>, PropError> {
        self.place_orders_impl(orders).await
    }

    async fn accounts(&self, owner: Uuid) -> Result<Vec<AccountView>, PropError> {
        self.accounts_impl(owner).await
    }

    async fn account(&self, owner: Uuid, account_id: Uuid) -> Result<AccountView, PropError> {
        self.account_impl(owner, account_id).await
    }

    async fn positions(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Vec<PositionView>, PropError> {
        self.positions_impl(owner, account_id).await
    }

    async fn orders(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<OrderView>, PropError> {
        self.orders_impl(owner, account_id, page).await
    }

    async fn fills(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError> {
        self.fills_impl(owner, account_id, page).await
    }

    async fn ledger(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<LedgerEventView>, PropError> {
        self.ledger_impl(owner, account_id, page).await
    }

    async fn equity_curve(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError> {
        self.equity_curve_impl(owner, account_id, page).await
    }

    async fn latest_equity(
        &self,
        owner: Uuid,
        account_id: Uuid,
    ) -> Result<Option<EquityPoint>, PropError> {
        self.latest_equity_impl(owner, account_id).await
    }

    async fn equity_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<EquityPoint>, PropError> {
        self.equity_after_impl(owner, account_id, page).await
    }

    async fn fills_after(
        &self,
        owner: Uuid,
        account_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<FillView>, PropError> {
        self.fills_after_impl(owner, account_id, page).await
    }

    async fn reconcile(&self, account_id: Uuid) -> Result<ReconcileReport, PropError> {
        self.reconcile_impl(account_id).await
    }

    async fn apply_funding_and_settlement(
        &self,
        account_id: Uuid,
    ) -> Result<CarryReport, PropError> {
        self.apply_funding_and_settlement_impl(account_id).await
    }

    async fn apply_carry_due(&self, batch: u32) -> Result<CarryReport, PropError> {
        self.apply_carry_due_impl(batch).await
    }

    async fn halt(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        self.admin_status(admin, account_id, reason, true).await
    }

    async fn resume(
        &self,
        admin: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        self.admin_status(admin, account_id, reason, false).await
    }

    async fn adjust(
        &self,
        admin: Uuid,
        account_id: Uuid,
        amount: Decimal,
        reason: &str,
    ) -> Result<AuditEntry, PropError> {
        self.adjust_impl(admin, account_id, amount, reason).await
    }

    async fn audit_log(
        &self,
        account_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, PropError> {
        self.audit_log_impl(account_id, page).await
    }

    async fn arena_profits_after(
        &self,
        page: PageRequest,
        until: DateTime<Utc>,
    ) -> Result<Page<ArenaProfit>, PropError> {
        self.arena_profits_after_impl(page, until).await
    }

    async fn mark_to_market(&self, batch: u32) -> Result<MtmReport, PropError> {
        self.mark_to_market_impl(batch).await
    }
}
