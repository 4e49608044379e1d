//! The strategy marketplace: creators upload strategies and read the marketplace (reviewed
//! strategies, and their own in every status) with metrics, history and lineage;
//! administrators review. Unreviewed strategies of others answer 404.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_clone_service::DraftView;
use clones_economy::{RoyaltyCredit, RoyaltyTotal};
use clones_marketplace::{
    Adoption, NewStrategy, Review, StrategyDetail, StrategyFilter, StrategySummary,
};
use uuid::Uuid;

use crate::extract::{AdminUser, AuthUser, Json};
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(strategies)
        .service(upload)
        .service(strategy)
        .service(adopt)
        .service(royalties);
}

pub(super) fn configure_admin(config: &mut ServiceConfig) {
    config.service(review);
}

paged_response!(
    /// A page of marketplace strategies, newest first.
    StrategyPage,
    StrategySummary,
    "The strategies."
);

/// The strategies the caller sees (from `experiment` on, and the caller's own in every status),
/// newest first or by score (`sort=score`), optionally filtered.
#[utoipa::path(tag = "marketplace", params(PageParams, StrategyFilter), security(("user_bearer" = [])), responses(
    (status = 200, body = StrategyPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/strategies")]
pub async fn strategies(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged<StrategyFilter>,
) -> Result<web::Json<StrategyPage>, ApiError> {
    let page = state
        .marketplace
        .strategies(user.user_id, query.filter, query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// Uploads a strategy in the project's strategy format; it waits at `pending_review` for the
/// monitoring cycle. At most 10 uploads per creator per hour.
#[utoipa::path(tag = "marketplace", request_body = NewStrategy, security(("user_bearer" = [])), responses(
    (status = 201, body = StrategyDetail),
    (status = 400, description = "`invalid_body`, `invalid_input`, `invalid_strategy_graph` (each problem names its node)", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`strategy_not_found`: the parent is not visible", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "`strategy_upload_limit`, with Retry-After", body = Problem, content_type = "application/problem+json"),
))]
#[post("/strategies")]
pub async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<NewStrategy>,
) -> Result<HttpResponse, ApiError> {
    let made = state
        .marketplace
        .upload(user.user_id, body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(made))
}

/// One strategy with its latest full backtest, status history, ancestors and descendants.
#[utoipa::path(tag = "marketplace", params(("id" = Uuid, Path, description = "strategy id")), security(("user_bearer" = [])), responses(
    (status = 200, body = StrategyDetail),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`strategy_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/strategies/{id}")]
pub async fn strategy(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<StrategyDetail>, ApiError> {
    Ok(web::Json(
        state
            .marketplace
            .strategy(user.user_id, id.into_inner())
            .await?,
    ))
}

/// Adopts a `proposable` strategy: its graph becomes the draft of one of the caller's clones,
/// and the draft (and the version published from it) record the strategy it came from.
#[utoipa::path(tag = "marketplace", params(("id" = Uuid, Path, description = "strategy id")), request_body = Adoption, security(("user_bearer" = [])), responses(
    (status = 200, description = "The clone's new draft", body = DraftView),
    (status = 400, description = "`invalid_body`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`strategy_not_found`, `clone_not_found` (not the caller's clone)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`strategy_not_proposable`", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_strategy_graph`, `too_many_assets`: the graph does not fit the clone's universe or entitlement; `errors` lists each problem", body = Problem, content_type = "application/problem+json"),
))]
#[post("/strategies/{id}/adopt")]
pub async fn adopt(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<Adoption>,
) -> Result<web::Json<DraftView>, ApiError> {
    Ok(web::Json(
        state
            .marketplace
            .adopt(user.user_id, id.into_inner(), body.into_inner().clone_id)
            .await?,
    ))
}

/// Rejects, reinstates or discards a strategy, with a reason kept in its history.
#[utoipa::path(tag = "marketplace", params(("id" = Uuid, Path, description = "strategy id")), request_body = Review, security(("user_bearer" = [])), responses(
    (status = 200, body = StrategyDetail),
    (status = 400, description = "`invalid_body`, `invalid_input`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`strategy_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`invalid_strategy_transition`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/strategies/{id}/review")]
pub async fn review(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<Review>,
) -> Result<web::Json<StrategyDetail>, ApiError> {
    Ok(web::Json(
        state
            .marketplace
            .review(admin.0.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}

/// A page of the caller's royalty credits, newest first, with totals over all of them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltyStatementPage {
    /// The credits, newest first.
    pub items: Vec<RoyaltyCredit>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Per currency, over every credit (not only this page).
    pub totals: Vec<RoyaltyTotal>,
}

/// The caller's royalty statement as a creator: what clones trading their strategies paid
/// them, net of the platform fee of their plan, newest first, with totals.
#[utoipa::path(tag = "marketplace", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = RoyaltyStatementPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/royalties")]
pub async fn royalties(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<RoyaltyStatementPage>, ApiError> {
    let statement = state.royalties.statement(user.user_id, query.page).await?;
    Ok(web::Json(RoyaltyStatementPage {
        items: statement.credits.items,
        next_cursor: crate::paging::next_cursor(statement.credits.next_cursor),
        totals: statement.totals,
    }))
}
