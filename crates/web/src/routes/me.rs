//! The signed-in user's own account.

use actix_web::{get, web};
use clones_auth::{Me, SecurityEvent};

use super::ServiceConfig;
use crate::extract::AuthUser;
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config.service(me).service(security_events);
}

/// The account, its wallets and roles.
#[utoipa::path(
    tag = "me",
    security(("user_bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<web::Json<Me>, ApiError> {
    Ok(web::Json(state.auth.me(user.user_id).await?))
}

paged_response!(
    /// Security events, newest first.
    SecurityEvents,
    SecurityEvent,
    "The events."
);

/// The user's newest security events: sign-ins, wallet links, refresh-token reuse, logouts.
#[utoipa::path(
    tag = "me",
    params(PageParams),
    security(("user_bearer" = [])),
    responses(
        (status = 200, body = SecurityEvents),
        (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/security-events")]
pub async fn security_events(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<SecurityEvents>, ApiError> {
    let page = state.auth.security_events(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}
