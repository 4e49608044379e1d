//! Settings every binary shares, read from flags or environment variables (`--help` lists
//! them). Secrets are wrapped so they never reach logs.

use std::time::Duration;

use clap::Args;
use clones_db::{Db, DbError, PoolSettings};
use clones_kernel::Secret;

/// How to reach PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Connection URL for the application role (must not own the tables).
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Secret<String>,
    /// Largest number of pooled connections.
    #[arg(long = "db-pool-size", env = "DB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: u32,
    /// Longest wait for a free pooled connection, in milliseconds.
    #[arg(
        long = "db-checkout-timeout-ms",
        env = "DB_CHECKOUT_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub checkout_timeout_ms: u64,
}

impl DatabaseArgs {
    /// Builds the pool.
    ///
    /// # Errors
    /// [`DbError::InvalidSettings`] for unusable values.
    pub fn connect(&self) -> Result<Db, DbError> {
        Db::connect(&PoolSettings {
            url: self.database_url.clone(),
            max_size: self.pool_size,
            checkout_timeout: Duration::from_millis(self.checkout_timeout_ms),
        })
    }
}

/// What every worker binary takes the same way: the database and `--once`. Flattened into a
/// worker's settings next to its own interval and batch flags, whose environment variables
/// are named after the worker.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    pub once: bool,
}
