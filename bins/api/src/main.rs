//! The HTTP API: settings -> pool -> metrics listener (when `METRICS_ADDR` is set) -> services
//! -> server. Refuses to start on a database whose migrations are not current; stops
//! gracefully on SIGTERM/SIGINT.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use clones_web::AppState;
use clones_web::settings::ApiSettings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    clones_runtime::install_tls_provider();
    clones_runtime::telemetry::init_logging("info");
    let settings = ApiSettings::parse();
    let db = settings.database.connect()?;
    clones_runtime::require_current_schema(&db).await?;
    // Before the app is built, so the request metrics' help texts reach the recorder.
    if let Some(address) = settings.metrics.metrics_addr {
        clones_runtime::prometheus::serve(address, db.clone())
            .await
            .with_context(|| format!("binding the metrics listener on {address}"))?;
    }
    let state = AppState::new(&settings, db, Arc::new(clones_kernel::SystemClock))?;
    let listener = std::net::TcpListener::bind(settings.http.bind)
        .with_context(|| format!("binding {}", settings.http.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "api listening on http://{address}");
    let (server, _handle) = clones_web::serve(state, listener, settings.http.http_workers)?;
    server.await?;
    Ok(())
}
