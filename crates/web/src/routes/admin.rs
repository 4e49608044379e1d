//! Administrator routes: service-token management.

use super::ServiceConfig;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use clones_auth::{MintedServiceToken, ServiceTokenInfo};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{AdminUser, Json};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(list_service_tokens)
        .service(mint_service_token)
        .service(revoke_service_token);
}

/// Service tokens, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTokens {
    /// The tokens (never their secrets).
    pub items: Vec<ServiceTokenInfo>,
}

/// A new service token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MintBody {
    /// Who or what will hold it.
    pub name: String,
    /// `resource:action` scopes, e.g. `health:read`.
    pub scopes: Vec<String>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Lists service tokens.
#[utoipa::path(tag = "admin", security(("user_bearer" = [])), responses(
    (status = 200, body = ServiceTokens),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/service-tokens")]
pub async fn list_service_tokens(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<web::Json<ServiceTokens>, ApiError> {
    let items = state.access.list_service_tokens().await?;
    Ok(web::Json(ServiceTokens { items }))
}

/// Mints a service token; its secret appears in this response only.
#[utoipa::path(tag = "admin", request_body = MintBody, security(("user_bearer" = [])), responses(
    (status = 201, body = MintedServiceToken),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[post("/service-tokens")]
pub async fn mint_service_token(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: Json<MintBody>,
) -> Result<HttpResponse, ApiError> {
    let minted = state
        .access
        .mint_service_token(&body.name, &body.scopes, body.expires_at)
        .await?;
    Ok(HttpResponse::Created().json(minted))
}

/// Revokes a service token.
#[utoipa::path(tag = "admin", params(("id" = Uuid, Path, description = "token id")), security(("user_bearer" = [])), responses(
    (status = 204, description = "revoked"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/service-tokens/{id}")]
pub async fn revoke_service_token(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    if state.access.revoke_service_token(id.into_inner()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found())
    }
}
