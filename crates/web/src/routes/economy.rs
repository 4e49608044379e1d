//! Payments: quotes, deposit submissions, purchases, the creator plan; and a clone's returns
//! gross and net of fees and royalties.

use super::ServiceConfig;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use clones_economy::{
    ClonePerformance, CreatorPlanView, DepositOutcome, DepositState, DepositSubmission,
    PurchaseView, QuoteRequest, SignedQuote,
};
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::paging::{PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

/// Routes under `/clone`: a clone's performance.
pub(super) fn configure_clone(config: &mut ServiceConfig) {
    config.service(performance);
}

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(quote)
        .service(submit_deposit)
        .service(get_deposit)
        .service(purchases)
        .service(creator_plan);
}

paged_response!(
    /// A page of the caller's purchases, newest first.
    Purchases,
    PurchaseView,
    "Newest first."
);

/// Prices and signs a quote to pay into the SignedVault.
#[utoipa::path(tag = "economy", request_body = QuoteRequest, security(("user_bearer" = [])), responses(
    (status = 201, body = SignedQuote),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "clone not found", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "payer not yours, not an upgrade, no price", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "payments not configured", body = Problem, content_type = "application/problem+json"),
))]
#[post("/quotes")]
pub async fn quote(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let quote = state.economy.quote(user.user_id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(quote))
}

/// Submits a deposit transaction for a quote. 201: purchase recorded now; 200: already
/// recorded (replay); 202: pending (re-checked automatically; poll the deposit).
#[utoipa::path(tag = "economy", request_body = DepositSubmission, security(("user_bearer" = [])), responses(
    (status = 201, body = DepositOutcome),
    (status = 200, body = DepositOutcome),
    (status = 202, body = DepositOutcome),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "quote not found", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "reverted, mismatched, not a vault deposit, or expired", body = Problem, content_type = "application/problem+json"),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
#[post("/deposits")]
pub async fn submit_deposit(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<DepositSubmission>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let outcome = state
        .economy
        .submit_deposit(user.user_id, body.quote_id, &body.tx_hash)
        .await?;
    let status = match (outcome.state, outcome.created) {
        (DepositState::Confirmed, true) => StatusCode::CREATED,
        (DepositState::Confirmed, false) => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    Ok(HttpResponse::build(status).json(outcome))
}

/// One of the caller's deposits.
#[utoipa::path(tag = "economy", params(("id" = Uuid, Path, description = "deposit id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DepositOutcome),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/deposits/{id}")]
pub async fn get_deposit(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DepositOutcome>, ApiError> {
    Ok(web::Json(
        state.economy.deposit(user.user_id, id.into_inner()).await?,
    ))
}

/// The caller's purchases, newest first.
#[utoipa::path(tag = "economy", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = Purchases),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/purchases")]
pub async fn purchases(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<Purchases>, ApiError> {
    let page = state.economy.purchases(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}

/// The caller's creator plan (Starter unless bought up with a `creator_plan` purchase), which
/// sets the platform's fee on their royalties.
#[utoipa::path(tag = "economy", security(("user_bearer" = [])), responses(
    (status = 200, body = CreatorPlanView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/creator-plan")]
pub async fn creator_plan(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<CreatorPlanView>, ApiError> {
    Ok(web::Json(state.economy.creator_plan(user.user_id).await?))
}

/// The clone's returns on each of its audition and Arena accounts, gross and net of trading
/// fees and of the royalties its adopted marketplace strategies cost.
#[utoipa::path(tag = "economy", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = ClonePerformance),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/performance")]
pub async fn performance(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<ClonePerformance>, ApiError> {
    let id = id.into_inner();
    state.clones.get_clone(user.user_id, id).await?;
    Ok(web::Json(
        state.royalties.performance(user.user_id, id).await?,
    ))
}
