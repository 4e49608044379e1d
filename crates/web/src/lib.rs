//! The HTTP layer: routes, extractors, middleware, problem+json errors and the OpenAPI
//! document, assembled by [`build_app`] for both the `api` binary and the tests.
//!
//! Handlers parse, authenticate, call one service method and map errors; no business rule
//! lives here. This is the only crate that knows actix-web. Every request is also counted and
//! timed by route template ([`http_metrics`]); the metrics are served by the runtime's separate
//! listener, not by this app.

mod error;
pub mod extract;
pub mod http_metrics;
pub mod openapi;
pub mod paging;
mod rate_limit;
pub mod request_id;
mod routes;
pub mod settings;

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, http, web};
use clones_ai_decision::DecisionService;
use clones_auth::{AccessAdmin, AuthService};
use clones_backtest::{BacktestService, JobSettings};
use clones_clone_service::CloneService;
use clones_copy_mirror::CopyTradeService;
use clones_db::Db;
use clones_deployment::DeploymentService;
use clones_economy::EconomyService;
use clones_ingest::IngestService;
use clones_kernel::Clock;
use clones_lifecycle::LifecycleService;
use clones_marketplace::MarketplaceService;
use clones_prop_engine::PropService;
use clones_runtime::HeartbeatService;
use clones_wiring::{PropFeed, ServiceSettings, Services};

use crate::settings::{ApiSettings, SettingsError};

pub use error::{ApiError, PROBLEM_JSON, Problem, status_for};
pub use rate_limit::{Cidr, RateLimiter, client_key};

/// What every handler can reach: the services and the HTTP-level settings.
pub struct AppState {
    /// Identity: sign-in, sessions, the user's account.
    pub auth: Arc<dyn AuthService>,
    /// Roles and service tokens.
    pub access: Arc<dyn AccessAdmin>,
    /// Clones, strategies, profiles, moderation.
    pub clones: Arc<dyn CloneService>,
    /// Decision runs and dry runs.
    pub decisions: Arc<dyn DecisionService>,
    /// Backtest jobs and previews.
    pub backtests: Arc<dyn BacktestService>,
    /// Copy-trade targets, grants, ledger and decisions.
    pub copy_trade: Arc<dyn CopyTradeService>,
    /// The strategy marketplace.
    pub marketplace: Arc<dyn MarketplaceService>,
    /// Royalty statements (the booking is economy-worker's).
    pub royalties: Arc<dyn clones_economy::RoyaltyService>,
    /// Clone deployments and their history.
    pub deployments: Arc<dyn DeploymentService>,
    /// Auditions, the Promotion Queue and the Arena.
    pub lifecycle: Arc<dyn LifecycleService>,
    /// Quotes, deposits, purchases.
    pub economy: Arc<dyn EconomyService>,
    /// Market memory and ingestion runs.
    pub ingest: Arc<dyn IngestService>,
    /// Prop accounts: owner reads and admin actions.
    pub prop: Arc<dyn PropService>,
    /// Worker heartbeats.
    pub heartbeats: Arc<dyn HeartbeatService>,
    /// The pool, for readiness checks only; handlers go through services.
    pub db: Db,
    /// Token buckets for the sign-in routes.
    pub auth_rate_limiter: Arc<RateLimiter>,
    /// Token buckets per user for decision dry runs.
    pub dry_run_rate_limiter: Arc<RateLimiter<uuid::Uuid>>,
    /// Proxies whose forwarding headers name the client for rate limiting.
    pub trusted_proxies: Vec<Cidr>,
    /// Origins allowed by CORS.
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted JSON body, in bytes.
    pub json_body_limit_bytes: usize,
    /// A worker is stale after this many intervals without a completed cycle.
    pub worker_stale_after_intervals: u32,
}

impl AppState {
    /// The production state: the services `clones-wiring` builds over `db`, time from `clock`,
    /// and the HTTP settings.
    ///
    /// # Errors
    /// [`SettingsError`] when the settings are inconsistent.
    pub fn new(
        settings: &ApiSettings,
        db: Db,
        clock: Arc<dyn Clock>,
    ) -> Result<web::Data<Self>, SettingsError> {
        let auth_settings = settings.auth.to_settings()?;
        let payments = settings
            .payments
            .to_settings()
            .map_err(SettingsError::payments)?;
        // Dry runs decide on market memory, with the language model when one is configured,
        // and execute nothing; the API places no orders, so its prop engine has no feed.
        let llm = settings.llm.model().map_err(SettingsError::llm)?;
        let backtests = settings
            .backtests
            .apply(JobSettings::default())
            .map_err(SettingsError::backtests)?;
        let keyring = settings
            .secrets
            .keyring()
            .map_err(|error| SettingsError::secrets(error.to_string()))?
            .map(Arc::new);
        let deployment_chain = settings
            .deployment
            .to_settings()
            .map_err(SettingsError::deployment)?;
        let services = Services::new(
            db,
            clock,
            ServiceSettings {
                payments,
                llm,
                backtests,
                prop_feed: PropFeed::None,
                keyring,
                deployment_chain,
                copy_trade: clones_copy_mirror::CopyTradeSettings {
                    clob: settings.clob.to_settings(),
                    ..clones_copy_mirror::CopyTradeSettings::default()
                },
                ..ServiceSettings::default()
            },
        );
        Ok(web::Data::new(Self {
            auth: services.auth(auth_settings),
            clones: services.clones,
            decisions: services.decisions,
            backtests: services.backtests,
            copy_trade: services.copy_trade,
            marketplace: services.marketplace,
            royalties: services.royalties,
            deployments: services.deployments,
            lifecycle: services.lifecycle,
            economy: services.economy,
            access: services.access,
            ingest: services.ingest,
            prop: services.prop,
            heartbeats: services.heartbeats,
            db: services.db,
            auth_rate_limiter: Arc::new(RateLimiter::new(
                settings.http.auth_rate_limit_per_minute,
                settings.http.auth_rate_limit_burst,
            )),
            dry_run_rate_limiter: Arc::new(RateLimiter::new(
                settings.http.dry_run_rate_limit_per_minute,
                settings.http.dry_run_rate_limit_burst,
            )),
            trusted_proxies: settings.http.trusted_proxies.clone(),
            cors_allowed_origins: settings.http.cors_allowed_origins.clone(),
            json_body_limit_bytes: settings.http.json_body_limit_bytes,
            worker_stale_after_intervals: settings.http.worker_stale_after_intervals,
        }))
    }
}

fn cors(allowed_origins: &[String]) -> Cors {
    allowed_origins
        .iter()
        .filter(|origin| !origin.is_empty())
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            http::Method::GET,
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
        ])
        .allowed_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::header::ACCEPT,
            http::header::HeaderName::from_static(request_id::REQUEST_ID_HEADER),
        ])
        .expose_headers([
            http::header::HeaderName::from_static(request_id::REQUEST_ID_HEADER),
            http::header::RETRY_AFTER,
        ])
        .max_age(600)
}

/// The application: every route, its middleware and configuration, ready for `HttpServer` or
/// `actix_web::test::init_service`.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let routes::Routes {
        app,
        document,
        schema_collisions,
    } = routes::split();
    for name in schema_collisions {
        // A test keeps this empty; should it happen, the document is wrong for one type.
        tracing::error!(schema = %name, "two types share one OpenAPI schema name");
    }
    // Help texts go to the recorder the process installed before serving (if any).
    http_metrics::describe();
    let cors = cors(&state.cors_allowed_origins);
    let json = extract::json_config(state.json_body_limit_bytes);
    app.app_data(web::Data::new(openapi::Document(document)))
        .app_data(state)
        .app_data(json)
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .default_service(web::to(routes::fallback))
        .wrap(cors)
        .wrap(from_fn(http_metrics::middleware))
        .wrap(from_fn(request_id::middleware))
}

/// Starts serving on `listener` with `workers` threads (0 = one per core). The returned server
/// runs until stopped through its handle or a signal.
///
/// # Errors
/// I/O errors binding the listener.
pub fn serve(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
    workers: usize,
) -> std::io::Result<(actix_web::dev::Server, ServerHandle)> {
    let mut server = HttpServer::new(move || build_app(state.clone()))
        .listen(listener)?
        .shutdown_timeout(10);
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.run();
    let handle = server.handle();
    Ok((server, handle))
}
