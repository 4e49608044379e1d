//! What every process of the system shares: database settings, JSON logging, graceful
//! shutdown, and the worker loop with its heartbeats.
//!
//! A worker binary is its settings (a [`WorkerSettings`]) and one call to [`worker_main`], which
//! builds its [`Cycle`] and runs it under [`run_worker`] after refusing a schema with pending
//! migrations: one cycle at once, then one every interval, a heartbeat row per cycle, and on
//! SIGTERM/SIGINT the running cycle finishes before the process exits 0. This crate owns the
//! `worker_heartbeats` table and reads it back for the health route through
//! [`HeartbeatService`], and the process's Prometheus recorder and metrics listener
//! ([`prometheus`]), on which every worker exports its cycle metrics. It holds no business
//! rules.

mod heartbeat;
pub mod prometheus;
pub mod settings;
mod shutdown;
mod startup;
pub mod telemetry;
mod worker;

pub use heartbeat::{HeartbeatService, PgHeartbeatService, WorkerHealth, WorkersHealth};
pub use shutdown::{Shutdown, shutdown_on_signals};
pub use startup::{
    StartupError, WorkerContext, WorkerSettings, require_current_schema, worker_main,
};
pub use worker::{Cycle, CycleError, CycleReport, RunSummary, WorkerOptions, run_worker};

/// Installs the process-wide TLS crypto provider (ring). Call once at start-up, before any
/// HTTP or chain client is built; repeated calls are harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
