//! Prometheus metrics of a process: the one recorder the `metrics` facade writes to, the
//! names and help texts of the worker loop's metrics, and the small listener that answers
//! `GET /metrics` with the text format.
//!
//! The recorder is installed once per process ([`handle`]); every later call returns the same
//! handle, so tests that start several apps or workers in one process share it. The listener
//! is plain HTTP/1.1 on its own address (`METRICS_ADDR`), never on the API's public listener,
//! and has no authentication: bind it to loopback or a private interface. This module holds no
//! business metric; each crate records its own through the facade.

mod listener;

#[cfg(feature = "test-support")]
pub mod exposition;

use std::net::SocketAddr;
use std::sync::OnceLock;

use clones_db::Db;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use listener::MetricsListener;

/// Histogram: how long a worker cycle took, in seconds, by `worker` and `outcome`.
pub const WORKER_CYCLE_DURATION_SECONDS: &str = "worker_cycle_duration_seconds";
/// Counter: finished cycles by `worker` and `outcome` (`success`, `failure`).
pub const WORKER_CYCLES_TOTAL: &str = "worker_cycles_total";
/// Counter: failed cycles by `worker`.
pub const WORKER_CYCLE_ERRORS_TOTAL: &str = "worker_cycle_errors_total";
/// Histogram: items a successful cycle processed, by `worker`.
pub const WORKER_CYCLE_ITEMS: &str = "worker_cycle_items";
/// Counter: items processed over all cycles, by `worker`.
pub const WORKER_ITEMS_TOTAL: &str = "worker_items_total";
/// Gauge: when a cycle last succeeded, in Unix seconds, by `worker`.
pub const WORKER_LAST_SUCCESS_TIMESTAMP_SECONDS: &str = "worker_last_success_timestamp_seconds";
/// Gauge: failures since the last success, by `worker`.
pub const WORKER_CONSECUTIVE_ERRORS: &str = "worker_consecutive_errors";
/// Gauge: the configured time between cycles, in seconds, by `worker`.
pub const WORKER_INTERVAL_SECONDS: &str = "worker_interval_seconds";
/// Counter: heartbeat rows that could not be written, by `worker`.
pub const WORKER_HEARTBEAT_WRITE_ERRORS_TOTAL: &str = "worker_heartbeat_write_errors_total";
/// Counter: named events a worker reports (`take_events`), by worker and event.
pub const WORKER_EVENTS_TOTAL: &str = "worker_events_total";

/// Upper bounds of request, checkout and other short latency histograms, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Upper bounds of the cycle duration histogram, in seconds: cycles run up to minutes.
const CYCLE_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// Upper bounds of the items-per-cycle histogram.
const ITEM_BUCKETS: &[f64] = &[
    0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed as the global `metrics` recorder on the first
/// call. Histograms render as Prometheus histograms (`_bucket`, `_sum`, `_count`): names
/// ending in `_seconds` get latency buckets, the cycle duration and items per cycle their own.
///
/// Should another recorder already be installed, the handle still renders, but only what
/// this recorder sees (nothing); that is logged once.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        handle
    })
}

fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(WORKER_CYCLE_DURATION_SECONDS.into()),
                CYCLE_BUCKETS,
            )
        })
        .and_then(|builder| {
            builder.set_buckets_for_metric(Matcher::Full(WORKER_CYCLE_ITEMS.into()), ITEM_BUCKETS)
        })
        // Only an empty bucket list fails, and none of the constants is empty.
        .unwrap_or_default()
}

/// Help texts of the metrics this crate and the pool record.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    clones_db::metrics_names::describe();
    describe_histogram!(
        WORKER_CYCLE_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of a worker cycle, by outcome."
    );
    describe_counter!(WORKER_CYCLES_TOTAL, "Finished worker cycles, by outcome.");
    describe_counter!(WORKER_CYCLE_ERRORS_TOTAL, "Worker cycles that failed.");
    describe_histogram!(
        WORKER_CYCLE_ITEMS,
        "Items a successful worker cycle processed."
    );
    describe_counter!(WORKER_ITEMS_TOTAL, "Items processed by worker cycles.");
    describe_gauge!(
        WORKER_LAST_SUCCESS_TIMESTAMP_SECONDS,
        Unit::Seconds,
        "Unix time at which a worker cycle last succeeded."
    );
    describe_gauge!(
        WORKER_CONSECUTIVE_ERRORS,
        "Worker cycles failed since the last success."
    );
    describe_gauge!(
        WORKER_INTERVAL_SECONDS,
        Unit::Seconds,
        "Configured time between the end of one worker cycle and the start of the next."
    );
    describe_counter!(
        WORKER_HEARTBEAT_WRITE_ERRORS_TOTAL,
        "Heartbeat rows a worker could not write."
    );
}

/// Installs the recorder and serves `GET /metrics` on `address` in the background, refreshing
/// `db`'s pool gauges before each scrape. Returns the bound address (useful with port 0).
///
/// # Errors
/// The error binding `address`.
pub async fn serve(address: SocketAddr, db: Db) -> std::io::Result<SocketAddr> {
    let handle = handle();
    let listener = MetricsListener::bind(address).await?;
    let bound = listener.local_addr()?;
    listener.spawn(move || {
        db.record_pool_metrics();
        handle.render()
    });
    tracing::info!(address = %bound, "metrics listening on http://{bound}/metrics");
    Ok(bound)
}
