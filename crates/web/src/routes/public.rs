//! Public clone routes: approved profiles for anyone, reports from signed-in users.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_clone_service::{PublicProfile, ReportSubmission, ReportView};
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config.service(profile).service(report);
}

/// An approved public profile.
#[utoipa::path(tag = "public", params(("id" = Uuid, Path, description = "clone id")), responses(
    (status = 200, body = PublicProfile),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/profile")]
pub async fn profile(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<web::Json<PublicProfile>, ApiError> {
    Ok(web::Json(
        state.clones.public_profile(id.into_inner()).await?,
    ))
}

/// Reports a public profile (not your own; one open report per clone).
#[utoipa::path(tag = "public", params(("id" = Uuid, Path, description = "clone id")), request_body = ReportSubmission, security(("user_bearer" = [])), responses(
    (status = 201, body = ReportView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already reported", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "own clone", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/report")]
pub async fn report(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ReportSubmission>,
) -> Result<HttpResponse, ApiError> {
    let report = state
        .clones
        .report(user.user_id, id.into_inner(), body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(report))
}
