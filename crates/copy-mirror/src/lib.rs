//! The Polymarket copy-trading mirror: what turns "a target wallet traded" into "the tenant
//! placed a mirror order", at most once.
//!
//! The pure core, in pipeline order: [`fill`] normalises a Data API trade into an
//! [`ObservedFill`] with the frozen id `data-api:<tx>:<asset>:<side>:<ts>`; [`ids`] derives the
//! stable target id (UUIDv5 of the wallet) and the idempotency key
//! `keccak256(target_id ":" fill_id)`; [`plan`](mod@plan) decides whether and how much to
//! mirror (dedup, the target's policy, the tenant's position, the smaller of configured and
//! safety caps); [`grant`] authorises an intent against the tenant's grant (per order, per
//! day, fills per hour). None of them reads a clock, a database or the network: the same input
//! gives the same decision, which the deterministic simulation relies on.
//!
//! [`clob`] is the venue client the live executor places through: signed V2 orders, L1/L2
//! authentication and outcomes sorted into accepted, rejected and ambiguous.
//!
//! [`PgCopyTradeService`] owns the tables `copy_trade_targets`, `copy_trade_grants`,
//! `copy_trade_fills` (the ledger), `copy_trade_decisions` (append-only),
//! `copy_trade_cursors` and `copy_trade_clob_accounts` (each tenant's CLOB wallet, its key and
//! API credentials sealed; [`accounts`]). It runs the pipeline per tenant target and fill, places orders through
//! an [`executor::Executor`] (paper through prop-engine by default), and recovers rows
//! a crash or an ambiguous answer left pending by asking the venue. It reads across tenants in
//! exactly one place, the enumerator.
//!
//! Invariants every layer keeps: a fill's ledger row commits before its order is sent
//! (INSERT_BEFORE_PLACE), the id and key formulas never change, and every observed fill ends
//! in exactly one decision.

pub mod accounts;
pub mod clob;
mod error;
pub mod executor;
pub mod fill;
pub mod grant;
pub mod ids;
pub mod lease;
mod models;
pub mod plan;
mod repo;
mod service;
pub mod settings;
pub mod stream;
pub mod views;
pub mod wakeup;
pub mod watch;

pub use accounts::PgClobAccounts;
pub use error::CopyTradeError;
pub use executor::{ExecError, Executor, PaperExecutor, Placement, Route};
pub use fill::{DataApiTrade, FillError, ObservedFill, TradeSide, normalise};
pub use grant::{Grant, GrantUsage, authorize};
pub use ids::{IdempotencyKey, target_id};
pub use plan::{
    MarketRules, MirrorIntent, PlanInput, SAFETY_MAX_POSITION_USDC, SAFETY_MAX_USDC_PER_TRADE,
    Sizing, SkipReason, TargetPolicy, plan,
};
pub use service::{CopyTradeSettings, PgCopyTradeService, Watched};
pub use views::*;
pub use watch::{DataApi, DataApiPosition, PollReport, WatchError, WatchSettings, Watcher};

use async_trait::async_trait;
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

/// Copy trading: the owner's targets, grant, kill switch and ledger, and the worker's
/// pipeline. Another tenant's rows are invisible (row-level security).
#[async_trait]
pub trait CopyTradeService: Send + Sync {
    /// Starts mirroring a wallet.
    ///
    /// # Errors
    /// `invalid_input`, `copy_target_exists`.
    async fn add_target(
        &self,
        owner: Uuid,
        target: NewTarget,
    ) -> Result<TargetView, CopyTradeError>;

    /// The owner's targets, oldest first.
    ///
    /// # Errors
    /// Database failures.
    async fn targets(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<TargetView>, CopyTradeError>;

    /// Changes a target's policy or pauses it.
    ///
    /// # Errors
    /// `copy_target_not_found`, `invalid_input`.
    async fn update_target(
        &self,
        owner: Uuid,
        id: Uuid,
        patch: TargetPatch,
    ) -> Result<TargetView, CopyTradeError>;

    /// Stops mirroring a target; its ledger stays.
    ///
    /// # Errors
    /// `copy_target_not_found`.
    async fn remove_target(&self, owner: Uuid, id: Uuid) -> Result<(), CopyTradeError>;

    /// The owner's grant, if set.
    ///
    /// # Errors
    /// Database failures.
    async fn grant(&self, owner: Uuid) -> Result<Option<GrantView>, CopyTradeError>;

    /// Sets the caps and executor (opening the paper account the first time).
    ///
    /// # Errors
    /// `invalid_input`, prop-engine failures.
    async fn set_grant(
        &self,
        owner: Uuid,
        grant: GrantRequest,
    ) -> Result<GrantView, CopyTradeError>;

    /// Turns the kill switch on (every fill skipped, nothing sent) or off.
    ///
    /// # Errors
    /// `copy_grant_not_found` without a grant.
    async fn set_kill_switch(&self, owner: Uuid, on: bool) -> Result<GrantView, CopyTradeError>;

    /// The owner's ledger, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn fills(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<LedgerView>, CopyTradeError>;

    /// The owner's decisions, newest first.
    ///
    /// # Errors
    /// Database failures.
    async fn decisions(
        &self,
        owner: Uuid,
        page: PageRequest,
    ) -> Result<Page<DecisionView>, CopyTradeError>;

    /// How current the ledger's view of the venue is.
    ///
    /// # Errors
    /// Database failures.
    async fn sync_health(&self, owner: Uuid) -> Result<SyncHealth, CopyTradeError>;

    /// Creates the owner's CLOB wallet (a fresh key, sealed, and the CLOB's API credentials)
    /// or returns the one it has; `true` when it was created now. A CLOB that cannot be
    /// reached leaves the credentials to be minted on first use.
    ///
    /// # Errors
    /// `secrets_not_configured` without a keyring; database failures.
    async fn create_clob_account(
        &self,
        owner: Uuid,
    ) -> Result<(ClobAccountView, bool), CopyTradeError>;

    /// The owner's CLOB wallet (never a secret).
    ///
    /// # Errors
    /// `copy_clob_account_not_found` when it has none.
    async fn clob_account(&self, owner: Uuid) -> Result<ClobAccountView, CopyTradeError>;

    /// Worker: checks the Data API positions of every tenant CLOB wallet due for it against
    /// the ledger's net filled shares, and records the result (a mismatch is logged, never
    /// traded).
    ///
    /// # Errors
    /// Database failures; a Data API failure is counted, not returned.
    async fn check_positions(&self, data_api: &DataApi) -> Result<PositionsReport, CopyTradeError>;

    /// Worker: the wallet's poll watermark (Unix seconds), if it was polled before.
    ///
    /// # Errors
    /// Database failures.
    async fn watermark(&self, wallet: &str) -> Result<Option<i64>, CopyTradeError>;

    /// Worker: stores the wallet's poll watermark.
    ///
    /// # Errors
    /// Database failures.
    async fn set_watermark(&self, wallet: &str, watermark: i64) -> Result<(), CopyTradeError>;

    /// Worker: the enumerator (the one read across tenants).
    ///
    /// # Errors
    /// Database failures.
    async fn watched(&self) -> Result<Watched, CopyTradeError>;

    /// Worker: mirrors `fills` of `wallet` for every tenant that targets it.
    ///
    /// # Errors
    /// Database failures of the enumerator; a failing fill is counted, not returned.
    async fn mirror(
        &self,
        wallet: &str,
        fills: &[ObservedFill],
    ) -> Result<TickReport, CopyTradeError>;

    /// Worker: resolves rows left pending by a crash or an ambiguous answer.
    ///
    /// # Errors
    /// Database failures.
    async fn recover(&self) -> Result<TickReport, CopyTradeError>;

    /// Worker: reads placed orders that are not final back from their venue and records
    /// their status and confirmation time.
    ///
    /// # Errors
    /// Database failures.
    async fn sync(&self) -> Result<SyncReport, CopyTradeError>;

    /// Worker: marks the replica `holder` alive until now + `ttl` and returns the wallets of
    /// `wallets` it polls now: those it wins by rendezvous over the live replicas
    /// ([`lease::mine`]) and holds a lease on until now + `ttl`. Its leases on every other
    /// wallet are given up, so their new owner takes them on its next cycle.
    ///
    /// # Errors
    /// Database failures.
    async fn lease_wallets(
        &self,
        holder: &str,
        wallets: &[String],
        ttl: chrono::Duration,
    ) -> Result<Vec<String>, CopyTradeError>;
}
