//! The signed-in user's own account.

use actix_web::{get, web};
use clones_auth::{Me, SecurityEvent};
use serde::{Deserialize, Serialize};

use super::ServiceConfig;
use crate::extract::{AuthUser, Query};
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

/// Paging of the security log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// How many events (1-200, default 50).
    pub limit: Option<u32>,
}

/// Security events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEvents {
    /// The events.
    pub items: Vec<SecurityEvent>,
}

/// The user's newest security events: sign-ins, wallet links, refresh-token reuse, logouts.
#[utoipa::path(
    tag = "me",
    params(EventsQuery),
    security(("user_bearer" = [])),
    responses(
        (status = 200, body = SecurityEvents),
        (status = 400, description = "invalid query", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/security-events")]
pub async fn security_events(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Query<EventsQuery>,
) -> Result<web::Json<SecurityEvents>, ApiError> {
    let items = state
        .auth
        .security_events(user.user_id, query.limit.unwrap_or(50))
        .await?;
    Ok(web::Json(SecurityEvents { items }))
}
