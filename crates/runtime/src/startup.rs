//! What a process checks before it serves, and how a worker process runs from its settings to
//! its exit. Every binary refuses to start on a schema older than its embedded migrations.

use std::sync::Arc;
use std::time::Duration;

use clones_db::{Db, DbError};
use clones_kernel::{Clock, SystemClock};

use crate::settings::WorkerArgs;
use crate::{Cycle, PgHeartbeatService, WorkerOptions, run_worker, shutdown_on_signals};

/// Why a process refuses to start, or a worker exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The migration status could not be read.
    #[error("reading migration status (is the database up and migrated?): {0}")]
    StatusUnreadable(#[source] DbError),
    /// The database lacks migrations this binary embeds.
    #[error("{0} migration(s) pending: run `clonectl migrate` first")]
    MigrationsPending(usize),
    /// A setting is unusable.
    #[error("{0}")]
    InvalidSettings(String),
    /// The pool could not be built.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The worker's cycle could not be built from its settings.
    #[error(transparent)]
    Build(Box<dyn std::error::Error + Send + Sync>),
    /// A `--once` run's cycle failed.
    #[error("the cycle failed")]
    CycleFailed,
}

/// Succeeds when every embedded migration has been applied to `db`.
///
/// # Errors
/// [`StartupError::StatusUnreadable`] or [`StartupError::MigrationsPending`].
pub async fn require_current_schema(db: &Db) -> Result<(), StartupError> {
    let status = db
        .run(clones_db::migrations::status_on)
        .await
        .map_err(StartupError::StatusUnreadable)?;
    if status.is_current() {
        Ok(())
    } else {
        Err(StartupError::MigrationsPending(status.pending.len()))
    }
}

/// A worker binary's settings, as [`worker_main`] reads them.
pub trait WorkerSettings: clap::Parser {
    /// The heartbeat name, e.g. `housekeeping-worker`.
    const NAME: &'static str;

    /// The database and `--once`.
    fn worker(&self) -> &WorkerArgs;

    /// Seconds between cycles (refused when zero).
    fn interval_secs(&self) -> u64;

    /// Items a cycle takes at most (refused when zero); `None` for a worker without a batch.
    fn batch(&self) -> Option<u32> {
        None
    }
}

/// What a worker's cycle is built from besides its settings.
#[derive(Clone)]
pub struct WorkerContext {
    /// The pool, built from the worker's database settings.
    pub db: Db,
    /// The clock (the system clock).
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WorkerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerContext").finish_non_exhaustive()
    }
}

/// The one entry point of every worker binary: installs the TLS provider, logs JSON, parses
/// `S` from flags and environment, checks the interval and batch, builds the pool, builds the
/// cycle with `build`, refuses a schema with pending migrations, starts the metrics listener
/// when `METRICS_ADDR` is set, then runs the cycle under [`run_worker`] with database
/// heartbeats until SIGTERM/SIGINT (or once).
///
/// # Errors
/// A [`StartupError`] for unusable settings (a metrics address that cannot be bound
/// included), a cycle `build` refused, a schema that is not
/// current, or a `--once` run whose cycle failed.
pub async fn worker_main<S, C, F>(build: F) -> Result<(), StartupError>
where
    S: WorkerSettings,
    C: Cycle,
    F: FnOnce(&S, WorkerContext) -> Result<C, Box<dyn std::error::Error + Send + Sync>>,
{
    crate::install_tls_provider();
    crate::telemetry::init_logging("info");
    let settings = S::parse();
    let interval = settings.interval_secs();
    if interval == 0 {
        return Err(StartupError::InvalidSettings(
            "interval must be positive".into(),
        ));
    }
    if settings.batch() == Some(0) {
        return Err(StartupError::InvalidSettings(
            "batch must be positive".into(),
        ));
    }
    let worker = settings.worker();
    let db = worker.database.connect()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let options = WorkerOptions {
        name: S::NAME.into(),
        interval: Duration::from_secs(interval),
        once: worker.once,
    };
    let context = WorkerContext {
        db: db.clone(),
        clock: clock.clone(),
    };
    let cycle = build(&settings, context).map_err(StartupError::Build)?;
    require_current_schema(&db).await?;
    if let Some(address) = worker.metrics.metrics_addr {
        crate::prometheus::serve(address, db.clone())
            .await
            .map_err(|error| {
                StartupError::InvalidSettings(format!("METRICS_ADDR {address}: {error}"))
            })?;
    }
    let heartbeats = Arc::new(PgHeartbeatService::new(db, clock));
    let summary = run_worker(&options, &cycle, heartbeats, shutdown_on_signals()).await;
    if options.once && summary.last_failed {
        return Err(StartupError::CycleFailed);
    }
    Ok(())
}
