//! The names of the pool's metrics and their descriptions. The pool records them through the
//! `metrics` facade; whichever recorder the process installed (the runtime's Prometheus one)
//! exports them, and without one they cost nothing.

/// Gauge: pooled connections by `state` (`in_use`, `idle`).
pub const POOL_CONNECTIONS: &str = "db_pool_connections";
/// Gauge: the most connections the pool opens.
pub const POOL_MAX_CONNECTIONS: &str = "db_pool_max_connections";
/// Gauge: callers waiting for a connection right now.
pub const POOL_CHECKOUTS_WAITING: &str = "db_pool_checkouts_waiting";
/// Histogram: how long getting a connection took, in seconds (timeouts included).
pub const POOL_WAIT_SECONDS: &str = "db_pool_wait_seconds";
/// Counter: checkouts that gave up after the checkout timeout.
pub const POOL_TIMEOUTS_TOTAL: &str = "db_pool_timeouts_total";

/// Registers the help text of every pool metric with the installed recorder. Call after the
/// recorder is installed; calling it again is harmless.
pub fn describe() {
    metrics::describe_gauge!(
        POOL_CONNECTIONS,
        "Pooled database connections by state (in_use, idle)."
    );
    metrics::describe_gauge!(POOL_MAX_CONNECTIONS, "The most connections the pool opens.");
    metrics::describe_gauge!(
        POOL_CHECKOUTS_WAITING,
        "Callers waiting for a pooled connection."
    );
    metrics::describe_histogram!(
        POOL_WAIT_SECONDS,
        metrics::Unit::Seconds,
        "Time to get a pooled connection, timeouts included."
    );
    metrics::describe_counter!(
        POOL_TIMEOUTS_TOTAL,
        "Checkouts that found no free connection within DB_CHECKOUT_TIMEOUT_MS."
    );
}
