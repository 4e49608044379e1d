//! Backtests of one's clone: queue a job (of the draft, a published version, or a paper
//! account's window), follow its progress, read its metrics and artifacts, cancel it, and run a
//! small synchronous preview for a strategy editor. Another user's clone or job answers 404
//! exactly like one that does not exist.

use super::ServiceConfig;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use clones_backtest::{
    ArtifactKind, ArtifactView, CreateBacktest, JobDetail, JobError, JobView, PreviewBacktest,
    PreviewView,
};
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(create)
        .service(list)
        .service(read)
        .service(cancel)
        .service(artifacts)
        .service(artifact)
        .service(preview);
}

paged_response!(
    /// A page of backtest jobs, newest first.
    BacktestJobPage,
    JobView,
    "The jobs."
);

/// Queues a backtest of the clone's draft (`version` absent), of a published version, or of a
/// paper account's window (`paperAccountId`, a consistency job). The request is checked
/// against the clone's tier and the hard limits and counted in the day's usage in one
/// transaction: a refused request queues and counts nothing.
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id")), request_body = CreateBacktest, security(("user_bearer" = [])), responses(
    (status = 202, description = "queued", body = JobView),
    (status = 400, description = "`invalid_body`, or `invalid_backtest_request` with `errors` naming each field", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`, `strategy_version_not_found`, `prop_account_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_strategy_graph`, or `backtest_too_large` with `errors` naming each limit (bars, range, instruments)", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "`backtest_usage_exceeded` (the tier's daily jobs or bars; see Retry-After) or `backtest_queue_full`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/decision-backtests")]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreateBacktest>,
) -> Result<HttpResponse, ApiError> {
    let job = state
        .backtests
        .create(user.user_id, id.into_inner(), body.into_inner())
        .await?;
    Ok(HttpResponse::Accepted().json(job))
}

/// The clone's backtest jobs, newest first, each with its progress and headline figures.
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = BacktestJobPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/decision-backtests")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<BacktestJobPage>, ApiError> {
    let page = state
        .backtests
        .jobs(user.user_id, id.into_inner(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// One job: progress (bars done of total, ETA), every metric, the walk-forward folds, the
/// paper-consistency comparison and the stored artifacts.
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id"), ("jobId" = Uuid, Path, description = "backtest job id")), security(("user_bearer" = [])), responses(
    (status = 200, body = JobDetail),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/decision-backtests/{jobId}")]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<JobDetail>, ApiError> {
    let (clone_id, job_id) = path.into_inner();
    Ok(web::Json(
        state.backtests.job(user.user_id, clone_id, job_id).await?,
    ))
}

/// Cancels a queued job at once; a running job stops at its next heartbeat (its status stays
/// `running` with `cancelRequested` until then).
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id"), ("jobId" = Uuid, Path, description = "backtest job id")), security(("user_bearer" = [])), responses(
    (status = 200, body = JobView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`backtest_job_finished`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/decision-backtests/{jobId}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<JobView>, ApiError> {
    let (clone_id, job_id) = path.into_inner();
    Ok(web::Json(
        state
            .backtests
            .cancel(user.user_id, clone_id, job_id)
            .await?,
    ))
}

/// The job's stored artifacts (kind, media type, size, and when retention deletes them).
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id"), ("jobId" = Uuid, Path, description = "backtest job id")), security(("user_bearer" = [])), responses(
    (status = 200, body = Vec<ArtifactView>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/decision-backtests/{jobId}/artifacts")]
pub async fn artifacts(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Vec<ArtifactView>>, ApiError> {
    let (clone_id, job_id) = path.into_inner();
    Ok(web::Json(
        state
            .backtests
            .artifacts(user.user_id, clone_id, job_id)
            .await?,
    ))
}

/// One artifact: `equity` and `drawdown` (JSON series), `trades_json`, `trades_csv`, or
/// `chart_svg` (equity and drawdown with trade markers).
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id"), ("jobId" = Uuid, Path, description = "backtest job id"), ("kind" = ArtifactKind, Path, description = "artifact kind")), security(("user_bearer" = [])), responses(
    (status = 200, description = "the artifact, as its media type says", content(
        (Object = "application/json"),
        (String = "text/csv"),
        (String = "image/svg+xml"),
    )),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`backtest_artifact_not_found`, or `backtest_artifact_expired` after retention", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/decision-backtests/{jobId}/artifacts/{kind}")]
pub async fn artifact(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (clone_id, job_id, kind) = path.into_inner();
    let kind = ArtifactKind::parse(&kind).ok_or(JobError::ArtifactNotFound)?;
    let artifact = state
        .backtests
        .artifact(user.user_id, clone_id, job_id, kind)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, artifact.content_type))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(artifact.body))
}

/// Backtests the draft (or `graph`, a graph not saved yet) now, over at most
/// `BACKTEST_PREVIEW_MAX_BARS` bars, and answers the whole report. Limited per user together
/// with dry runs (`DRY_RUN_RATE_LIMIT_PER_MINUTE`).
#[utoipa::path(tag = "backtests", params(("id" = Uuid, Path, description = "clone id")), request_body = PreviewBacktest, security(("user_bearer" = [])), responses(
    (status = 200, body = PreviewView),
    (status = 400, description = "`invalid_body`, `invalid_backtest_request`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_strategy_graph`, `backtest_too_large`, `backtest_no_data`", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many previews and dry runs; see Retry-After", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/decision-backtest-preview")]
pub async fn preview(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<PreviewBacktest>,
) -> Result<web::Json<PreviewView>, ApiError> {
    // A preview runs the engine in the request: the dry-run budget bounds both.
    state
        .dry_run_rate_limiter
        .check(user.user_id, std::time::Instant::now())
        .map_err(|wait| crate::rate_limit::refused(crate::rate_limit::DRY_RUN_LIMITER, wait))?;
    Ok(web::Json(
        state
            .backtests
            .preview(user.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}
