//! The composition root: every PostgreSQL service of the system, built once from a pool, a
//! clock and settings, and wired to each other the same way in every process.
//!
//! The API, every worker, `clonectl`, the demo path test and the decision benchmark take their
//! services from [`Services::new`], so a clone reads the same competition facts and a purchase
//! the same identity checks wherever it is served. This crate only constructs: it holds no
//! business rule, reads no environment variable (settings are parsed by the binaries and
//! passed in) and knows nothing of actix.

use std::sync::Arc;

use clones_ai_decision::{DecisionModel, DecisionSettings, PgDecisionService};
use clones_auth::{AccessAdmin, AuthService, AuthSettings, PgAccessAdmin, PgAuthService};
use clones_backtest::{BacktestService, JobSettings, PgBacktestService};
use clones_clone_service::{CloneService, PgCloneService};
use clones_copy_mirror::clob::ClobExecutor;
use clones_copy_mirror::settings::ClobAccountsMode;
use clones_copy_mirror::{
    CopyTradeService, CopyTradeSettings, Executor, PaperExecutor, PgClobAccounts,
    PgCopyTradeService,
};
use clones_db::Db;
use clones_deployment::{
    ChainSettings as DeploymentChainSettings, DeploymentService, PgDeploymentService,
};
use clones_economy::{
    EconomyService, PaymentSettings, PgEconomyService, PgRoyaltyService, RoyaltyService,
    RoyaltySettings,
};
use clones_ingest::{IngestService, Ingestor, MarketData, PgIngestService, Source};
use clones_kernel::Clock;
use clones_lifecycle::{
    LifecycleService, LifecycleSettings, PgCompetitionFacts, PgLifecycleService,
};
use clones_marketplace::{MarketplaceService, MarketplaceSettings, PgMarketplaceService};
use clones_prop_engine::{
    MarketFeed, MarketMemoryFeed, NoMarketFeed, OrderLaneSettings, PgPropService, PropService,
    PropSettings,
};
use clones_runtime::{HeartbeatService, PgHeartbeatService};
use clones_secrets::Keyring;

/// Where the prop engine prices orders and marks positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PropFeed {
    /// No market data: the process opens, reads and administers accounts but never executes
    /// an order or marks a position (the API and the lifecycle worker).
    #[default]
    None,
    /// Market memory's latest quotes, books and funding (the decision and mark-to-market
    /// workers).
    MarketMemory,
}

/// The settings the services are built with, parsed by the calling binary.
#[derive(Clone, Default)]
pub struct ServiceSettings {
    /// Payments (vault, chain, quote key); quotes and deposits answer
    /// `payments_not_configured` without them.
    pub payments: Option<PaymentSettings>,
    /// The language model runs that need one use; such runs are skipped without it.
    pub llm: Option<Arc<dyn DecisionModel>>,
    /// How the decision service decides.
    pub decisions: DecisionSettings,
    /// Backtest limits, leases and retention (the venue and kind follow `decisions`, so a
    /// backtest trades the instruments a decision would).
    pub backtests: JobSettings,
    /// The copy-trade mirror's paper balance and recovery grace.
    pub copy_trade: CopyTradeSettings,
    /// Marketplace upload limits, cycle batches and the evolution seed.
    pub marketplace: MarketplaceSettings,
    /// The royalty policy and how long a fill settles before it is booked.
    pub royalties: RoyaltySettings,
    /// The live Polymarket CLOB executor over the house account, when configured (`house`
    /// mode); live grants record `not_sent` errors without it.
    pub clob: Option<Arc<dyn Executor>>,
    /// Whose CLOB wallet trades live grants: `tenant` builds the live executor over each
    /// tenant's own wallet (sealed with `keyring`, on `copy_trade.clob`), `house` uses `clob`.
    pub clob_accounts: ClobAccountsMode,
    /// Leases and grace periods of audition evaluation.
    pub lifecycle: LifecycleSettings,
    /// Prop engine limits.
    pub prop: PropSettings,
    /// How concurrent single orders share rounds (on by default).
    pub order_lanes: OrderLaneSettings,
    /// The prop engine's market data.
    pub prop_feed: PropFeed,
    /// The keys that seal secrets (a pool's deposit key); the pool step answers
    /// `secrets_not_configured` without them.
    pub keyring: Option<Arc<Keyring>>,
    /// The deployment factory's chain; deployment views carry no transaction to sign and the
    /// confirmation check answers `deployment_chain_not_configured` without it.
    pub deployment_chain: Option<DeploymentChainSettings>,
}

impl std::fmt::Debug for ServiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSettings")
            .field("payments_configured", &self.payments.is_some())
            .field("llm_configured", &self.llm.is_some())
            .field("decisions", &self.decisions)
            .field("backtests", &self.backtests)
            .field("copy_trade", &self.copy_trade)
            .field("marketplace", &self.marketplace)
            .field("royalties", &self.royalties)
            .field("clob_configured", &self.clob.is_some())
            .field("clob_accounts", &self.clob_accounts)
            .field("lifecycle", &self.lifecycle)
            .field("prop_feed", &self.prop_feed)
            .field("keyring", &self.keyring)
            .field("deployment_chain", &self.deployment_chain)
            .finish_non_exhaustive()
    }
}

/// Every service of the system over one pool and one clock.
#[derive(Clone)]
pub struct Services {
    /// The pool the services share.
    pub db: Db,
    /// The clock every service reads "now" from.
    pub clock: Arc<dyn Clock>,
    /// Roles, service tokens, wallet provisioning and identity housekeeping.
    pub access: Arc<dyn AccessAdmin>,
    /// Clones, strategies, entitlements, profiles and moderation, with display states read
    /// from lifecycle's competition facts.
    pub clones: Arc<dyn CloneService>,
    /// Quotes, deposits, purchases and operator grants.
    pub economy: Arc<dyn EconomyService>,
    /// Market memory: listings, batch writes, ingestion runs.
    pub ingest: Arc<dyn IngestService>,
    /// Market memory as other contexts read it (the same service as `ingest`).
    pub market: Arc<dyn MarketData>,
    /// Prop accounts, orders and mark-to-market, on the feed the settings chose.
    pub prop: Arc<dyn PropService>,
    /// Decision runs. Concrete because the decision worker drives its cycles
    /// (`PgDecisionService::run_cycle`); it coerces to `Arc<dyn DecisionService>`.
    pub decisions: Arc<PgDecisionService>,
    /// Auditions, the Promotion Queue and the Arena.
    pub lifecycle: Arc<dyn LifecycleService>,
    /// Backtest jobs, previews and the worker's queue.
    pub backtests: Arc<dyn BacktestService>,
    /// Copy-trade targets, grants and the mirror pipeline (paper orders through `prop`).
    pub copy_trade: Arc<dyn CopyTradeService>,
    /// The strategy marketplace: uploads, reviews, adoption and the worker's cycles.
    pub marketplace: Arc<dyn MarketplaceService>,
    /// Royalty booking on adopted strategies' Arena profits, and creators' statements.
    pub royalties: Arc<dyn RoyaltyService>,
    /// Clone deployments: the state machine, its history and the pool's sealed deposit key.
    pub deployments: Arc<dyn DeploymentService>,
    /// Worker heartbeats.
    pub heartbeats: Arc<dyn HeartbeatService>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// Builds every service over `db`, reading time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: ServiceSettings) -> Self {
        let ServiceSettings {
            payments,
            llm,
            decisions,
            backtests,
            copy_trade,
            marketplace,
            royalties,
            clob,
            clob_accounts,
            lifecycle,
            prop,
            order_lanes,
            prop_feed,
            keyring,
            deployment_chain,
        } = settings;
        let access: Arc<dyn AccessAdmin> = Arc::new(PgAccessAdmin::new(db.clone(), clock.clone()));
        // Display states come from audition, queue and Arena facts in every process.
        let clones: Arc<dyn CloneService> = Arc::new(PgCloneService::new(
            db.clone(),
            clock.clone(),
            Arc::new(PgCompetitionFacts),
        ));
        let ingest = Arc::new(PgIngestService::new(db.clone(), clock.clone()));
        let market: Arc<dyn MarketData> = ingest.clone();
        let feed: Arc<dyn MarketFeed> = match prop_feed {
            PropFeed::None => Arc::new(NoMarketFeed),
            PropFeed::MarketMemory => Arc::new(MarketMemoryFeed::new(market.clone())),
        };
        let prop: Arc<dyn PropService> = Arc::new(
            PgPropService::new(db.clone(), clock.clone(), feed, prop).with_order_lanes(order_lanes),
        );
        let economy: Arc<dyn EconomyService> = Arc::new(PgEconomyService::new(
            db.clone(),
            clock.clone(),
            access.clone(),
            payments,
        ));
        let lifecycle: Arc<dyn LifecycleService> = Arc::new(PgLifecycleService::new(
            db.clone(),
            clock.clone(),
            clones.clone(),
            prop.clone(),
            economy.clone(),
            lifecycle,
        ));
        let backtests: Arc<dyn BacktestService> = Arc::new(PgBacktestService::new(
            db.clone(),
            clock.clone(),
            clones.clone(),
            prop.clone(),
            market.clone(),
            JobSettings {
                venue: decisions.venue.clone(),
                kind: decisions.kind,
                ..backtests
            },
        ));
        // Tenants' CLOB wallets are created in every process that serves the owner's routes;
        // the live executor trades through them only in `tenant` mode.
        let accounts = Arc::new(PgClobAccounts::new(
            db.clone(),
            clock.clone(),
            keyring.clone(),
            copy_trade.clob.clone(),
        ));
        let clob = match clob_accounts {
            ClobAccountsMode::Tenant => {
                Some(Arc::new(ClobExecutor::new(accounts.clone())) as Arc<dyn Executor>)
            }
            ClobAccountsMode::House => clob,
        };
        let copy_trade: Arc<dyn CopyTradeService> = Arc::new(
            PgCopyTradeService::new(
                db.clone(),
                clock.clone(),
                prop.clone(),
                Arc::new(PaperExecutor::new(prop.clone())),
                clob,
                copy_trade,
            )
            .with_clob_accounts(accounts),
        );
        let marketplace: Arc<dyn MarketplaceService> = Arc::new(PgMarketplaceService::new(
            db.clone(),
            clock.clone(),
            clones.clone(),
            marketplace,
        ));
        let royalties: Arc<dyn RoyaltyService> = Arc::new(PgRoyaltyService::new(
            db.clone(),
            clock.clone(),
            prop.clone(),
            marketplace.clone(),
            royalties,
        ));
        let deployments: Arc<dyn DeploymentService> = Arc::new(PgDeploymentService::new(
            db.clone(),
            clock.clone(),
            clones.clone(),
            access.clone(),
            keyring,
            deployment_chain,
        ));
        let decisions = Arc::new(PgDecisionService::new(
            db.clone(),
            clock.clone(),
            clones.clone(),
            market.clone(),
            prop.clone(),
            llm,
            decisions,
        ));
        Self {
            heartbeats: Arc::new(PgHeartbeatService::new(db.clone(), clock.clone())),
            db,
            clock,
            access,
            clones,
            economy,
            ingest,
            market,
            prop,
            decisions,
            lifecycle,
            backtests,
            copy_trade,
            marketplace,
            royalties,
            deployments,
        }
    }

    /// Sign-in and sessions, for the processes that issue tokens (the API): only they hold the
    /// signing keys in `settings`.
    pub fn auth(&self, settings: AuthSettings) -> Arc<dyn AuthService> {
        Arc::new(PgAuthService::new(
            self.db.clone(),
            self.clock.clone(),
            settings,
        ))
    }

    /// An ingestor that writes what `sources` fetch into market memory.
    pub fn ingestor(&self, sources: Vec<Arc<dyn Source>>) -> Ingestor {
        Ingestor::new(self.ingest.clone(), self.clock.clone(), sources)
    }
}

/// Every column that holds encrypted secrets, as its owning context registers it: what
/// `clonectl secrets rotate` re-encrypts and `clonectl secrets status` counts.
pub fn secret_columns() -> Vec<clones_secrets::SecretColumn> {
    let mut columns = vec![clones_deployment::DEPOSIT_KEY_COLUMN];
    columns.extend(clones_copy_mirror::accounts::SECRET_COLUMNS);
    columns
}
