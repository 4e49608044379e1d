//! Settings every binary shares, read from flags or environment variables (`--help` lists
//! them). Secrets are wrapped so they never reach logs.

use std::net::SocketAddr;
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

/// Where the process serves its Prometheus metrics: its own listener, never the API's public
/// one. Unset, no listener is started.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsArgs {
    /// Address of the `GET /metrics` listener (e.g. `127.0.0.1:9464`). It has no
    /// authentication: bind it to loopback or a private interface. Unset: no listener.
    #[arg(long = "metrics-addr", env = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

/// What every worker binary takes the same way: the database, the metrics listener and `--once`. Flattened into a
/// worker's settings next to its own interval and batch flags, whose environment variables
/// are named after the worker.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Database connection.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The metrics listener.
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Run one cycle and exit (non-zero if it failed).
    #[arg(long)]
    pub once: bool,
}
