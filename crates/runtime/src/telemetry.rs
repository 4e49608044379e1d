//! Structured logging: one JSON object per line on stdout, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber. `default_filter` applies when `RUST_LOG` is unset.
/// Calling it twice keeps the first subscriber.
pub fn init_logging(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
