//! Lifecycle: rule sets, audition quotes and starts, auditions with their progress and audit
//! trail, retries, the Promotion Queue entry, the Arena membership and the clone's lifecycle
//! state for owners; void and refund authorization for admins. Another user's clone or
//! audition answers 404 exactly like one that does not exist.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_economy::SignedQuote;
use clones_lifecycle::{
    ArenaMembershipView, AuditionDetail, AuditionView, CloneLifecycleState, PromotionEntryView,
    RefundAuthorizationView, RuleSetView, StartAudition, StartedAudition,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{AdminUser, AuthUser, Json};
use crate::paging::{PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure_owner(config: &mut ServiceConfig) {
    config
        .service(rule_sets)
        .service(audition_quote)
        .service(start_audition)
        .service(auditions)
        .service(audition)
        .service(retry)
        .service(promotion)
        .service(arena)
        .service(clone_state);
}

pub(super) fn configure_admin(config: &mut ServiceConfig) {
    config
        .service(void_audition)
        .service(authorize_refund)
        .service(refund_authorizations);
}

/// Who pays an audition fee.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditionQuoteRequest {
    /// One of the caller's linked wallets (`0x` + 40 hex digits).
    pub payer_address: String,
}

/// Why an admin voids an audition or authorizes a refund.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleReason {
    /// Why (1-500 characters after trimming); recorded in the audition's event trail.
    pub reason: String,
}

/// Every audition rule set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleSets {
    /// By code.
    pub items: Vec<RuleSetView>,
}

paged_response!(
    /// A page of a clone's auditions.
    Auditions,
    AuditionView,
    "Newest first by creation time, then id."
);

paged_response!(
    /// Refund authorizations.
    RefundAuthorizations,
    RefundAuthorizationView,
    "Newest first."
);

/// 201 for a new audition, 200 for the one an earlier identical request started.
fn started(outcome: StartedAudition) -> HttpResponse {
    if outcome.created {
        HttpResponse::Created().json(outcome.audition)
    } else {
        HttpResponse::Ok().json(outcome.audition)
    }
}

/// Every audition rule set (profit target, daily loss, drawdown, reset time and zone,
/// minimum trading days, window, retries).
#[utoipa::path(tag = "lifecycle", security(("user_bearer" = [])), responses(
    (status = 200, body = RuleSets),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/rule-sets")]
pub async fn rule_sets(
    state: web::Data<AppState>,
    _user: AuthUser,
) -> Result<web::Json<RuleSets>, ApiError> {
    Ok(web::Json(RuleSets {
        items: state.lifecycle.rule_sets().await?,
    }))
}

/// A signed `audition_fee` quote for the clone, to pay into the SignedVault; the clone needs a
/// published strategy.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id")), request_body = AuditionQuoteRequest, security(("user_bearer" = [])), responses(
    (status = 201, body = SignedQuote),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "no published strategy, payer not yours, no price", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "payments not configured", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/audition-quote")]
pub async fn audition_quote(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<AuditionQuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let quote = state
        .lifecycle
        .audition_quote(user.user_id, id.into_inner(), &body.payer_address)
        .await?;
    Ok(HttpResponse::Created().json(quote))
}

/// Starts the audition a verified `audition_fee` purchase paid for, on a fresh prop account.
/// 201: started now; 200: this purchase's audition already exists.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id")), request_body = StartAudition, security(("user_bearer" = [])), responses(
    (status = 201, body = AuditionView),
    (status = 200, body = AuditionView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "clone, purchase or rule set not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "another audition is running", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "not an audition purchase for this clone, no published strategy, rule set inactive, refunded", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/auditions")]
pub async fn start_audition(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<StartAudition>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state
        .lifecycle
        .start_audition(user.user_id, id.into_inner(), body.into_inner())
        .await?;
    Ok(started(outcome))
}

/// The clone's auditions, newest first, each with its evaluation progress.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = Auditions),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/auditions")]
pub async fn auditions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<Auditions>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .auditions(user.user_id, id.into_inner(), query.page)
            .await?
            .into(),
    ))
}

/// One audition: status, breached rule, progress against every rule, the event trail and the
/// retries left.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "audition id")), security(("user_bearer" = [])), responses(
    (status = 200, body = AuditionDetail),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/auditions/{id}")]
pub async fn audition(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<AuditionDetail>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .audition(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Retries a failed audition as the next attempt of the same purchase, on a fresh account and
/// window, when its rule set allows it. 201: retried now; 200: this attempt already exists.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "the failed audition's id")), security(("user_bearer" = [])), responses(
    (status = 201, body = AuditionView),
    (status = 200, body = AuditionView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not failed, or another audition is running", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "the failure allows no retry, no retries left, refunded", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auditions/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let outcome = state.lifecycle.retry(user.user_id, id.into_inner()).await?;
    Ok(started(outcome))
}

/// The clone's latest Promotion Queue entry, with the reason its Arena admission was last
/// skipped.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = PromotionEntryView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "clone not found, or not queued", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/promotion")]
pub async fn promotion(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<PromotionEntryView>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .promotion_entry(user.user_id, id.into_inner())
            .await?,
    ))
}

/// The clone's Arena membership (the active one, else the latest).
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = ArenaMembershipView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "clone not found, or never admitted", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/arena")]
pub async fn arena(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<ArenaMembershipView>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .arena_membership(user.user_id, id.into_inner())
            .await?,
    ))
}

/// The clone's product-facing lifecycle state (`setup_required`, `configured`,
/// `audition_running`, `audition_failed`, `competition_eligible`, `competing`, `retired`) with
/// the facts it is derived from.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = CloneLifecycleState),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/state")]
pub async fn clone_state(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<CloneLifecycleState>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .clone_state(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Voids a running or failed audition (a running one stops trading at once).
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "audition id")), request_body = LifecycleReason, security(("user_bearer" = [])), responses(
    (status = 200, body = AuditionView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "passed or already voided", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auditions/{id}/void")]
pub async fn void_audition(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<LifecycleReason>,
) -> Result<web::Json<AuditionView>, ApiError> {
    Ok(web::Json(
        state
            .lifecycle
            .void_audition(admin.0.user_id, id.into_inner(), &body.reason)
            .await?,
    ))
}

/// Authorizes the refund of the audition's fee (voiding a running or failed audition in the
/// same step). One authorization per purchase; economy pays it out.
#[utoipa::path(tag = "lifecycle", params(("id" = Uuid, Path, description = "audition id")), request_body = LifecycleReason, security(("user_bearer" = [])), responses(
    (status = 201, body = RefundAuthorizationView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already authorized", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "a passed audition is not refunded", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auditions/{id}/refund-authorization")]
pub async fn authorize_refund(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<LifecycleReason>,
) -> Result<HttpResponse, ApiError> {
    let authorization = state
        .lifecycle
        .authorize_refund(admin.0.user_id, id.into_inner(), &body.reason)
        .await?;
    Ok(HttpResponse::Created().json(authorization))
}

/// Refund authorizations, newest first.
#[utoipa::path(tag = "lifecycle", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = RefundAuthorizations),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/refund-authorizations")]
pub async fn refund_authorizations(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: Paged,
) -> Result<web::Json<RefundAuthorizations>, ApiError> {
    let page = state.lifecycle.refund_authorizations(query.page).await?;
    Ok(web::Json(page.into()))
}
