//! Decision runs of one's clone: the audit of what its model proposed and what the prop engine
//! did with it, and a dry run that decides on current market memory without executing.
//! Another user's clone answers 404 exactly like one that does not exist.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_ai_decision::{RunDetail, RunView};
use uuid::Uuid;

use crate::extract::AuthUser;
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config.service(runs).service(run).service(dry_run);
}

paged_response!(
    /// A page of decision runs, newest first.
    RunPage,
    RunView,
    "The runs."
);

/// The clone's decision runs, newest first.
#[utoipa::path(tag = "decisions", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = RunPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/{id}/decision-runs")]
pub async fn runs(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<RunPage>, ApiError> {
    let page = state
        .decisions
        .runs(user.user_id, id.into_inner(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// One decision run with its actions, what the prop engine answered for each, and the model
/// artifact (model, prompt hash, input packet, raw output, latency, tokens, cost).
#[utoipa::path(tag = "decisions", params(("id" = Uuid, Path, description = "clone id"), ("runId" = Uuid, Path, description = "decision run id")), security(("user_bearer" = [])), responses(
    (status = 200, body = RunDetail),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/{id}/decision-runs/{runId}")]
pub async fn run(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<RunDetail>, ApiError> {
    let (clone_id, run_id) = path.into_inner();
    Ok(web::Json(
        state.decisions.run(user.user_id, clone_id, run_id).await?,
    ))
}

/// Decides now, on current market memory, without executing anything; the run is recorded
/// with context `dry_run`. Limited per user (`DRY_RUN_RATE_LIMIT_PER_MINUTE`, burst
/// `DRY_RUN_RATE_LIMIT_BURST`).
#[utoipa::path(tag = "decisions", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 201, body = RunDetail),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many dry runs; see Retry-After", body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
#[post("/{id}/decision-dry-run")]
pub async fn dry_run(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    // Each dry run records a run and may call a paid model: a per-user budget bounds both.
    state
        .dry_run_rate_limiter
        .check(user.user_id, std::time::Instant::now())
        .map_err(|wait| crate::rate_limit::refused(crate::rate_limit::DRY_RUN_LIMITER, wait))?;
    let detail = state
        .decisions
        .dry_run(user.user_id, id.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(detail))
}
