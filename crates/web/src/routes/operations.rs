//! Liveness, readiness, worker health and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use clones_db::migrations;
use serde::Serialize;

use super::ServiceConfig;
use crate::extract::ServiceCaller;
use crate::openapi::Document;
use crate::{ApiError, AppState, Problem};

/// Liveness and readiness, at the root.
pub(super) fn configure_root(config: &mut ServiceConfig) {
    config.service(healthz).service(readyz);
}

/// The document and worker health, under `/api/v1`.
pub(super) fn configure_api(config: &mut ServiceConfig) {
    config.service(openapi_json).service(worker_health);
}

/// The scope a service token needs to read worker health.
pub const HEALTH_READ_SCOPE: &str = "health:read";

/// Liveness or readiness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// The process is up (says nothing about its dependencies).
#[utoipa::path(tag = "operations", responses((status = 200, body = Status)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Status> {
    web::Json(Status { status: "ok" })
}

/// The database is reachable and its schema matches this build's migrations.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = Status),
    (status = 503, description = "database unreachable or migrations pending", body = Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Status>, ApiError> {
    let status = state.db.run(migrations::status_on).await.map_err(|error| {
        ApiError::from_kind(
            clones_kernel::ErrorKind::Unavailable,
            "not_ready",
            error.to_string(),
        )
    })?;
    if !status.is_current() {
        return Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "migrations_pending",
            format!("{} migration(s) pending", status.pending.len()),
        ));
    }
    Ok(web::Json(Status { status: "ready" }))
}

/// This document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&document.0)
}

/// Every worker's last heartbeat, staleness and error counts. Needs a service token with the
/// `health:read` scope.
#[utoipa::path(
    tag = "operations",
    path = "/internal/health/workers",
    security(("service_bearer" = [])),
    responses(
        (status = 200, body = clones_runtime::WorkersHealth),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/internal/health/workers")]
pub async fn worker_health(
    state: web::Data<AppState>,
    caller: ServiceCaller,
) -> Result<web::Json<clones_runtime::WorkersHealth>, ApiError> {
    caller.0.require(HEALTH_READ_SCOPE)?;
    let health = state
        .heartbeats
        .health(state.worker_stale_after_intervals)
        .await?;
    Ok(web::Json(health))
}
