//! [`PgCopyTradeService`]: copy trading over PostgreSQL, split by seam: `targets` (targets,
//! grant and kill switch, the owner's reads), `pipeline` (claim, decide, place, record, and
//! recovery), `sync` (placed orders read back from their venue), `positions` (CLOB wallets'
//! Data API positions checked against the ledger), `clob_account` (the owner's CLOB wallet)
//! and `enumerator` (the one read across tenants).

mod clob_account;
mod enumerator;
mod pipeline;
mod positions;
mod sync;
mod targets;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use clones_db::Db;
use clones_kernel::{Clock, Page, PageRequest};
use clones_prop_engine::PropService;
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;
use uuid::Uuid;

pub use enumerator::Watched;

use crate::accounts::PgClobAccounts;
use crate::clob::ClobSettings;
use crate::executor::Executor;
use crate::fill::ObservedFill;
use crate::views::{
    ClobAccountView, DecisionView, GrantRequest, GrantView, LedgerView, NewTarget, PositionsReport,
    SyncHealth, SyncReport, TargetPatch, TargetView, TickReport,
};
use crate::watch::DataApi;
use crate::{CopyTradeError, CopyTradeService};

/// How the service runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyTradeSettings {
    /// Starting balance of a tenant's copy-mirror paper account.
    pub paper_balance: Decimal,
    /// How long a claimed row may stay pending before recovery asks the venue.
    pub recovery_grace: chrono::Duration,
    /// Recent target fills the percentile filter ranks against.
    pub percentile_window: i64,
    /// How long a placed order may go unconfirmed before status sync reads it back.
    pub sync_every: chrono::Duration,
    /// How often a tenant CLOB wallet's positions are checked against the ledger.
    pub positions_every: chrono::Duration,
    /// The CLOB tenant wallets mint their API credentials on and trade on.
    pub clob: ClobSettings,
}

impl Default for CopyTradeSettings {
    fn default() -> Self {
        Self {
            paper_balance: Decimal::from(1_000),
            recovery_grace: chrono::Duration::seconds(30),
            percentile_window: 100,
            sync_every: chrono::Duration::seconds(30),
            positions_every: chrono::Duration::minutes(5),
            clob: ClobSettings::default(),
        }
    }
}

/// The copy-trade service over PostgreSQL.
pub struct PgCopyTradeService {
    db: Db,
    clock: Arc<dyn Clock>,
    prop: Arc<dyn PropService>,
    paper: Arc<dyn Executor>,
    clob: Option<Arc<dyn Executor>>,
    accounts: Option<Arc<PgClobAccounts>>,
    settings: CopyTradeSettings,
}

impl std::fmt::Debug for PgCopyTradeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCopyTradeService")
            .field("settings", &self.settings)
            .field("clob", &self.clob.is_some())
            .field("accounts", &self.accounts.is_some())
            .finish_non_exhaustive()
    }
}

impl PgCopyTradeService {
    /// A service placing paper orders through `paper` and live ones through `clob` (none:
    /// live grants record `not_sent` errors).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        prop: Arc<dyn PropService>,
        paper: Arc<dyn Executor>,
        clob: Option<Arc<dyn Executor>>,
        settings: CopyTradeSettings,
    ) -> Self {
        Self {
            db,
            clock,
            prop,
            paper,
            clob,
            accounts: None,
            settings,
        }
    }

    /// The same service creating tenants' CLOB wallets in `accounts` (without it, creating one
    /// answers `secrets_not_configured`).
    pub fn with_clob_accounts(self, accounts: Arc<PgClobAccounts>) -> Self {
        Self {
            accounts: Some(accounts),
            ..self
        }
    }

    /// Runs `work` as `owner` (row-level security applies), with the time it started.
    async fn as_owner<T, F>(&self, owner: Uuid, work: F) -> Result<T, CopyTradeError>
    where
        F: FnOnce(&mut PgConnection, DateTime<Utc>) -> Result<T, CopyTradeError> + Send + 'static,
        T: Send + 'static,
    {
        let now = self.clock.now();
        self.db
            .tenant_transaction(owner, move |conn| work(conn, now))
            .await
    }
}

#[async_trait]
impl CopyTradeService for PgCopyTradeService {
    async fn add_target(
        &self,
        owner: Uuid,
        target: NewTarget,
    ) -> Result<TargetView, CopyTradeError> {
        targets::add(self, owner, target).await
    }

    async fn targets(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<TargetView>, CopyTradeError> {
        targets::list(self, owner, page).await
    }

    async fn update_target(
        &self,
        owner: Uuid,
        id: Uuid,
        patch: TargetPatch,
    ) -> Result<TargetView, CopyTradeError> {
        targets::update(self, owner, id, patch).await
    }

    async fn remove_target(&self, owner: Uuid, id: Uuid) -> Result<(), CopyTradeError> {
        targets::remove(self, owner, id).await
    }

    async fn grant(&self, owner: Uuid) -> Result<Option<GrantView>, CopyTradeError> {
        targets::grant(self, owner).await
    }

    async fn set_grant(
        &self,
        owner: Uuid,
        grant: GrantRequest,
    ) -> Result<GrantView, CopyTradeError> {
        targets::set_grant(self, owner, grant).await
    }

    async fn set_kill_switch(&self, owner: Uuid, on: bool) -> Result<GrantView, CopyTradeError> {
        targets::set_kill_switch(self, owner, on).await
    }

    async fn fills(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<LedgerView>, CopyTradeError> {
        targets::fills(self, owner, page).await
    }

    async fn decisions(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<DecisionView>, CopyTradeError> {
        targets::decisions(self, owner, page).await
    }

    async fn sync_health(&self, owner: Uuid) -> Result<SyncHealth, CopyTradeError> {
        targets::sync_health(self, owner).await
    }

    async fn create_clob_account(
        &self,
        owner: Uuid,
    ) -> Result<(ClobAccountView, bool), CopyTradeError> {
        clob_account::create(self, owner).await
    }

    async fn clob_account(&self, owner: Uuid) -> Result<ClobAccountView, CopyTradeError> {
        clob_account::get(self, owner).await
    }

    async fn check_positions(&self, data_api: &DataApi) -> Result<PositionsReport, CopyTradeError> {
        positions::check(self, data_api).await
    }

    async fn watermark(&self, wallet: &str) -> Result<Option<i64>, CopyTradeError> {
        let target = crate::ids::target_id(wallet);
        self.db
            .run(move |conn| Ok(crate::repo::watermark(conn, target)?))
            .await
    }

    async fn set_watermark(&self, wallet: &str, watermark: i64) -> Result<(), CopyTradeError> {
        let target = crate::ids::target_id(wallet);
        let wallet = wallet.to_ascii_lowercase();
        let now = self.clock.now();
        self.db
            .run(move |conn| {
                Ok(crate::repo::set_watermark(
                    conn, target, &wallet, watermark, now,
                )?)
            })
            .await
    }

    async fn watched(&self) -> Result<Watched, CopyTradeError> {
        enumerator::watched(self, enumerator::Enumerate::Everything).await
    }

    async fn mirror(
        &self,
        wallet: &str,
        fills: &[ObservedFill],
    ) -> Result<TickReport, CopyTradeError> {
        pipeline::mirror(self, wallet, fills).await
    }

    async fn recover(&self) -> Result<TickReport, CopyTradeError> {
        pipeline::recover(self).await
    }

    async fn sync(&self) -> Result<SyncReport, CopyTradeError> {
        sync::sync(self).await
    }

    async fn lease_wallets(
        &self,
        holder: &str,
        wallets: &[String],
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, CopyTradeError> {
        let now = self.clock.now();
        let until = now + ttl;
        let holder = holder.to_string();
        let wallets: Vec<String> = wallets.iter().map(|w| w.to_ascii_lowercase()).collect();
        self.db
            .run(move |conn| {
                conn.transaction(|conn| {
                    crate::repo::touch_replica(conn, &holder, until)?;
                    let live = crate::repo::live_replicas(conn, now)?;
                    let mut held = Vec::new();
                    let mut ids = Vec::new();
                    for wallet in crate::lease::mine(&holder, &wallets, &live) {
                        let id = crate::ids::target_id(&wallet);
                        if crate::repo::lease_wallet(conn, id, &holder, until, now)? {
                            held.push(wallet);
                            ids.push(id);
                        }
                    }
                    crate::repo::release_wallets(conn, &holder, &ids)?;
                    Ok(held)
                })
            })
            .await
    }
}
