//! Sign-In with Ethereum, token refresh, logout and wallet linking.

use super::ServiceConfig;
use actix_web::{HttpResponse, post, web};
use clones_auth::{Challenge, SignedIn, TokenPair, Wallet};
use serde::{Deserialize, Serialize};

use crate::extract::{AuthUser, Json};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(challenge)
        .service(verify)
        .service(refresh)
        .service(logout)
        .service(logout_all)
        .service(link_challenge)
        .service(link_wallet);
}

/// The wallet asking to sign in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChallengeBody {
    /// `0x` + 40 hex digits, checksummed or not.
    pub address: String,
    /// The EIP-155 chain id the wallet is on.
    pub chain_id: u64,
}

/// A signed challenge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedMessageBody {
    /// The challenge message exactly as issued.
    pub message: String,
    /// The EIP-191 signature, `0x` + 130 hex digits (or a contract wallet's signature).
    pub signature: String,
}

/// A refresh request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token from the last sign-in or refresh.
    pub refresh_token: String,
}

/// How many sessions a logout-all ended.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    /// Sessions revoked.
    pub sessions_revoked: usize,
}

/// Issues an EIP-4361 message for the wallet to sign (valid ~10 minutes, single use).
#[utoipa::path(tag = "auth", request_body = ChallengeBody, responses(
    (status = 200, body = Challenge),
    (status = 400, description = "invalid address or unsupported chain", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/challenge")]
pub async fn challenge(
    state: web::Data<AppState>,
    body: Json<ChallengeBody>,
) -> Result<web::Json<Challenge>, ApiError> {
    let body = body.into_inner();
    Ok(web::Json(
        state
            .auth
            .sign_in_challenge(&body.address, body.chain_id)
            .await?,
    ))
}

/// Verifies the signed challenge; returns an access token and a refresh token. The first
/// sign-in of a wallet creates the user.
#[utoipa::path(tag = "auth", request_body = SignedMessageBody, responses(
    (status = 200, body = SignedIn),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "chain RPC for a contract wallet unavailable", body = Problem, content_type = "application/problem+json"),
))]
#[post("/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    body: Json<SignedMessageBody>,
) -> Result<web::Json<SignedIn>, ApiError> {
    Ok(web::Json(
        state
            .auth
            .verify_sign_in(&body.message, &body.signature)
            .await?,
    ))
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a used
/// one revokes the whole session.
#[utoipa::path(tag = "auth", request_body = RefreshBody, responses(
    (status = 200, body = TokenPair),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshBody>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(state.auth.refresh(&body.refresh_token).await?))
}

/// Ends the caller's current session (its refresh token stops working; the access token
/// lapses within its short lifetime).
#[utoipa::path(tag = "auth", security(("user_bearer" = [])), responses(
    (status = 204, description = "session ended"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "the session no longer exists", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    state.auth.logout(user.user_id, user.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of the caller.
#[utoipa::path(tag = "auth", security(("user_bearer" = [])), responses(
    (status = 200, body = LoggedOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/logout-all")]
pub async fn logout_all(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<LoggedOut>, ApiError> {
    let sessions_revoked = state.auth.logout_all(user.user_id).await?;
    Ok(web::Json(LoggedOut { sessions_revoked }))
}

/// Issues a challenge for linking another wallet to the signed-in user.
#[utoipa::path(tag = "auth", request_body = ChallengeBody, security(("user_bearer" = [])), responses(
    (status = 200, body = Challenge),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/wallets/challenge")]
pub async fn link_challenge(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<ChallengeBody>,
) -> Result<web::Json<Challenge>, ApiError> {
    let body = body.into_inner();
    Ok(web::Json(
        state
            .auth
            .link_challenge(user.user_id, &body.address, body.chain_id)
            .await?,
    ))
}

/// Links the wallet that signed a link challenge to the signed-in user.
#[utoipa::path(tag = "auth", request_body = SignedMessageBody, security(("user_bearer" = [])), responses(
    (status = 200, body = Wallet),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "wallet linked to another user", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "chain RPC for a contract wallet unavailable", body = Problem, content_type = "application/problem+json"),
))]
#[post("/wallets")]
pub async fn link_wallet(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<SignedMessageBody>,
) -> Result<web::Json<Wallet>, ApiError> {
    Ok(web::Json(
        state
            .auth
            .link_wallet(user.user_id, &body.message, &body.signature)
            .await?,
    ))
}
