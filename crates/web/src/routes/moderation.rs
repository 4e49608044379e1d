//! Admin moderation: the report queue, decisions, retirement and reinstatement, history.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_clone_service::{ModerationEntry, ModerationReason, ReportResolution, ReportView};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{AdminUser, Json};
use crate::paging::{PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(reports)
        .service(resolve)
        .service(retire)
        .service(reinstate)
        .service(history);
}

/// Filters of the report queue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// `open` (default), `dismissed`, `actioned`, or `all`.
    pub status: Option<String>,
}

paged_response!(
    /// One page of reports.
    ReportPage,
    ReportView,
    "Reports, oldest first."
);

paged_response!(
    /// A page of a clone's moderation history, oldest first.
    History,
    ModerationEntry,
    "Oldest first, in the order they were written."
);

/// The report queue, oldest first.
#[utoipa::path(tag = "moderation", params(ReportsQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = ReportPage),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/reports")]
pub async fn reports(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: Paged<ReportsQuery>,
) -> Result<web::Json<ReportPage>, ApiError> {
    let status = match query.filter.status.as_deref() {
        None => Some("open".to_string()),
        Some("all") => None,
        Some(other) => Some(other.to_string()),
    };
    let page = state.clones.reports(status, query.page).await?;
    Ok(web::Json(page.into()))
}

/// Dismisses or actions a report (optionally retiring the clone).
#[utoipa::path(tag = "moderation", params(("id" = Uuid, Path, description = "report id")), request_body = ReportResolution, security(("user_bearer" = [])), responses(
    (status = 200, body = ReportView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already resolved", body = Problem, content_type = "application/problem+json"),
))]
#[post("/reports/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<ReportResolution>,
) -> Result<web::Json<ReportView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .resolve_report(admin.0.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}

/// Retires a clone and its public profile.
#[utoipa::path(tag = "moderation", params(("id" = Uuid, Path, description = "clone id")), request_body = ModerationReason, security(("user_bearer" = [])), responses(
    (status = 204, description = "retired"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already retired", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<ModerationReason>,
) -> Result<HttpResponse, ApiError> {
    state
        .clones
        .retire(admin.0.user_id, id.into_inner(), body.into_inner().reason)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reinstates a retired clone and its public profile.
#[utoipa::path(tag = "moderation", params(("id" = Uuid, Path, description = "clone id")), request_body = ModerationReason, security(("user_bearer" = [])), responses(
    (status = 204, description = "reinstated"),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not retired, or its username is now taken", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<ModerationReason>,
) -> Result<HttpResponse, ApiError> {
    state
        .clones
        .reinstate(admin.0.user_id, id.into_inner(), body.into_inner().reason)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A clone's moderation history (append-only audit), oldest first.
#[utoipa::path(tag = "moderation", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = History),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/history")]
pub async fn history(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<History>, ApiError> {
    let page = state
        .clones
        .moderation_history(id.into_inner(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}
