//! What a process checks before it serves, and how a worker process runs to its exit. Every
//! binary refuses to start on a schema older than its embedded migrations.

use std::sync::Arc;

use clones_db::{Db, DbError};
use clones_kernel::Clock;

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

/// A worker binary's life after its settings are parsed: checks the schema, then runs `cycle`
/// under [`run_worker`] with database heartbeats until SIGTERM/SIGINT (or once).
///
/// # Errors
/// A [`StartupError`] when the schema is not current, or when a `--once` run's cycle failed.
pub async fn run_worker_process(
    options: &WorkerOptions,
    cycle: &dyn Cycle,
    db: Db,
    clock: Arc<dyn Clock>,
) -> Result<(), StartupError> {
    require_current_schema(&db).await?;
    let heartbeats = Arc::new(PgHeartbeatService::new(db, clock));
    let summary = run_worker(options, cycle, heartbeats, shutdown_on_signals()).await;
    if options.once && summary.last_failed {
        return Err(StartupError::CycleFailed);
    }
    Ok(())
}
