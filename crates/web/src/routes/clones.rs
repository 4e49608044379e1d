//! Owner routes of clone-service: clones, strategy drafts and versions, entitlements, trade
//! universe, public profile. Another user's clone answers 404.

use super::ServiceConfig;
use actix_web::{get, patch, post, put, web};
use clones_clone_service::{
    ClonePatch, CloneView, DraftView, EffectiveEntitlement, ProfileSubmission, ProfileView,
    TradeUniverse, VersionView,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::paging::{PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(list_clones)
        .service(get_clone)
        .service(update_clone)
        .service(get_draft)
        .service(save_draft)
        .service(publish)
        .service(list_versions)
        .service(entitlement)
        .service(get_trade_universe)
        .service(set_trade_universe)
        .service(get_profile)
        .service(submit_profile);
}

paged_response!(
    /// A page of the caller's clones, oldest first.
    Clones,
    CloneView,
    "Oldest first."
);

/// A strategy draft to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DraftBody {
    /// The strategy graph (see docs/strategy-format.md).
    #[schema(value_type = Object)]
    pub graph: serde_json::Value,
}

paged_response!(
    /// A page of published versions, newest first.
    Versions,
    VersionView,
    "Newest (highest version) first."
);

/// Lists the caller's clones, oldest first.
#[utoipa::path(tag = "clones", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = Clones),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones")]
pub async fn list_clones(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<Clones>, ApiError> {
    let page = state.clones.list_clones(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}

/// One of the caller's clones, with its derived display state and entitlement.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = CloneView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}")]
pub async fn get_clone(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<CloneView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .get_clone(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Renames the clone or changes its model (within the entitlement).
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), request_body = ClonePatch, security(("user_bearer" = [])), responses(
    (status = 200, body = CloneView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "model not allowed by the entitlement", body = Problem, content_type = "application/problem+json"),
))]
#[patch("/clones/{id}")]
pub async fn update_clone(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ClonePatch>,
) -> Result<web::Json<CloneView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .update_clone(user.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}

/// The editable draft (the default graph until one is saved).
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DraftView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/strategy/draft")]
pub async fn get_draft(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DraftView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .get_draft(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Validates and saves the draft; an invalid graph answers 422 with every problem in `errors`.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), request_body = DraftBody, security(("user_bearer" = [])), responses(
    (status = 200, body = DraftView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid graph; `errors` lists each problem with its node", body = Problem, content_type = "application/problem+json"),
))]
#[put("/clones/{id}/strategy/draft")]
pub async fn save_draft(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<DraftBody>,
) -> Result<web::Json<DraftView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .save_draft(user.user_id, id.into_inner(), body.into_inner().graph)
            .await?,
    ))
}

/// Publishes the draft as the next immutable version and makes it active.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 201, body = VersionView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "the draft equals the active version", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid graph", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/strategy/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let version = state.clones.publish(user.user_id, id.into_inner()).await?;
    Ok(actix_web::HttpResponse::Created().json(version))
}

/// Published versions, newest first.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = Versions),
    (status = 400, description = "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/strategy/versions")]
pub async fn list_versions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<Versions>, ApiError> {
    let page = state
        .clones
        .list_versions(user.user_id, id.into_inner(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// The effective entitlement (Starter when nothing else applies).
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = EffectiveEntitlement),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/entitlement")]
pub async fn entitlement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<EffectiveEntitlement>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .entitlement(user.user_id, id.into_inner())
            .await?,
    ))
}

/// The trade universe and asset selection rule.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = TradeUniverse),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/trade-universe")]
pub async fn get_trade_universe(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<TradeUniverse>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .trade_universe(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Replaces the trade universe and selection rule (within the entitlement's asset limit).
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), request_body = TradeUniverse, security(("user_bearer" = [])), responses(
    (status = 200, body = TradeUniverse),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "over the entitlement's asset limit", body = Problem, content_type = "application/problem+json"),
))]
#[put("/clones/{id}/trade-universe")]
pub async fn set_trade_universe(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<TradeUniverse>,
) -> Result<web::Json<TradeUniverse>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .set_trade_universe(user.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}

/// The owner's view of the public profile.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = ProfileView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/public-profile")]
pub async fn get_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<ProfileView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .own_profile(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Submits or updates the public profile; approved at once unless the clone is retired.
#[utoipa::path(tag = "clones", params(("id" = Uuid, Path, description = "clone id")), request_body = ProfileSubmission, security(("user_bearer" = [])), responses(
    (status = 200, body = ProfileView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "username taken, or profile retired", body = Problem, content_type = "application/problem+json"),
))]
#[put("/clones/{id}/public-profile")]
pub async fn submit_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ProfileSubmission>,
) -> Result<web::Json<ProfileView>, ApiError> {
    Ok(web::Json(
        state
            .clones
            .submit_profile(user.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}
