//! Copy trading, the caller's own: the wallets it mirrors and their policy, its grant (caps
//! and executor), the kill switch, the fills ledger, the decisions and how current the ledger
//! is, and the caller's own CLOB wallet. Another tenant's rows are invisible (404 for a
//! target id that is not the caller's).

use super::ServiceConfig;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use clones_copy_mirror::{
    ClobAccountView, DecisionView, GrantRequest, GrantView, LedgerView, NewTarget, SyncHealth,
    TargetPatch, TargetView,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(targets)
        .service(add_target)
        .service(update_target)
        .service(remove_target)
        .service(grant)
        .service(set_grant)
        .service(kill_switch)
        .service(fills)
        .service(decisions)
        .service(sync_health)
        .service(create_clob_account)
        .service(clob_account);
}

paged_response!(
    /// A page of the caller's copy-trade targets, oldest first.
    CopyTargetPage,
    TargetView,
    "The targets."
);

paged_response!(
    /// A page of the caller's copy-trade ledger, newest first.
    CopyFillPage,
    LedgerView,
    "The observed fills."
);

paged_response!(
    /// A page of the caller's copy-trade decisions, newest first.
    CopyDecisionPage,
    DecisionView,
    "The decisions."
);

/// The caller's mirrored wallets, oldest first.
#[utoipa::path(tag = "copy-trade", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = CopyTargetPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/targets")]
pub async fn targets(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<CopyTargetPage>, ApiError> {
    let page = state.copy_trade.targets(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}

/// Starts mirroring a wallet with a policy (percentile filter, per-trade and position caps,
/// proportional or fixed sizing; caps above the safety caps are refused).
#[utoipa::path(tag = "copy-trade", request_body = NewTarget, security(("user_bearer" = [])), responses(
    (status = 201, body = TargetView),
    (status = 400, description = "`invalid_body`, `invalid_input`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`copy_target_exists`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/targets")]
pub async fn add_target(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<NewTarget>,
) -> Result<HttpResponse, ApiError> {
    let target = state
        .copy_trade
        .add_target(user.user_id, body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(target))
}

/// Changes a target's policy, or pauses (`active: false`) and resumes it.
#[utoipa::path(tag = "copy-trade", params(("id" = Uuid, Path, description = "target row id")), request_body = TargetPatch, security(("user_bearer" = [])), responses(
    (status = 200, body = TargetView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/targets/{id}")]
pub async fn update_target(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<TargetPatch>,
) -> Result<web::Json<TargetView>, ApiError> {
    Ok(web::Json(
        state
            .copy_trade
            .update_target(user.user_id, id.into_inner(), body.into_inner())
            .await?,
    ))
}

/// Stops mirroring a target; its ledger and decisions stay.
#[utoipa::path(tag = "copy-trade", params(("id" = Uuid, Path, description = "target row id")), security(("user_bearer" = [])), responses(
    (status = 204, description = "removed"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/targets/{id}")]
pub async fn remove_target(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .copy_trade
        .remove_target(user.user_id, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's grant: caps, kill switch, executor and paper account.
#[utoipa::path(tag = "copy-trade", security(("user_bearer" = [])), responses(
    (status = 200, body = GrantView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`copy_grant_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/grant")]
pub async fn grant(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<GrantView>, ApiError> {
    let grant = state
        .copy_trade
        .grant(user.user_id)
        .await?
        .ok_or(clones_copy_mirror::CopyTradeError::GrantNotFound)?;
    Ok(web::Json(grant))
}

/// Sets the caps and the executor (`paper` opens the caller's copy-mirror paper account the
/// first time). Caps above the safety caps are refused.
#[utoipa::path(tag = "copy-trade", request_body = GrantRequest, security(("user_bearer" = [])), responses(
    (status = 200, body = GrantView),
    (status = 400, description = "`invalid_body`, `invalid_input`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[put("/grant")]
pub async fn set_grant(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<GrantRequest>,
) -> Result<web::Json<GrantView>, ApiError> {
    Ok(web::Json(
        state
            .copy_trade
            .set_grant(user.user_id, body.into_inner())
            .await?,
    ))
}

/// The kill switch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KillSwitch {
    /// On: every fill is recorded and skipped with `kill_switch`; nothing is sent.
    pub on: bool,
}

/// Turns the kill switch on or off.
#[utoipa::path(tag = "copy-trade", request_body = KillSwitch, security(("user_bearer" = [])), responses(
    (status = 200, body = GrantView),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`copy_grant_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[put("/kill-switch")]
pub async fn kill_switch(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<KillSwitch>,
) -> Result<web::Json<GrantView>, ApiError> {
    Ok(web::Json(
        state
            .copy_trade
            .set_kill_switch(user.user_id, body.into_inner().on)
            .await?,
    ))
}

/// The caller's ledger: every observed fill, what the mirror sent, and the venue's status.
#[utoipa::path(tag = "copy-trade", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = CopyFillPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/fills")]
pub async fn fills(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<CopyFillPage>, ApiError> {
    let page = state.copy_trade.fills(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}

/// The caller's decisions: placed, skipped (with the reason) or error, one per ledger row.
#[utoipa::path(tag = "copy-trade", params(PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = CopyDecisionPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/decisions")]
pub async fn decisions(
    state: web::Data<AppState>,
    user: AuthUser,
    query: Paged,
) -> Result<web::Json<CopyDecisionPage>, ApiError> {
    let page = state.copy_trade.decisions(user.user_id, query.page).await?;
    Ok(web::Json(page.into()))
}

/// How current the ledger's view of the venue is: orders not final yet, how long the oldest
/// has waited for a confirmation, and the last check of the caller's CLOB wallet positions
/// against the ledger.
#[utoipa::path(tag = "copy-trade", security(("user_bearer" = [])), responses(
    (status = 200, body = SyncHealth),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/sync-health")]
pub async fn sync_health(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<SyncHealth>, ApiError> {
    Ok(web::Json(state.copy_trade.sync_health(user.user_id).await?))
}

/// Creates the caller's CLOB wallet: the platform generates its key and keeps it sealed, and
/// the CLOB mints its API credentials (when the CLOB cannot be reached, they are minted on
/// first use: `credentialsReady` is false until then). Idempotent: a caller with a wallet
/// gets it back with 200.
#[utoipa::path(tag = "copy-trade", security(("user_bearer" = [])), responses(
    (status = 201, description = "created", body = ClobAccountView),
    (status = 200, description = "the caller already had one", body = ClobAccountView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "`secrets_not_configured`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clob-account")]
pub async fn create_clob_account(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let (account, created) = state.copy_trade.create_clob_account(user.user_id).await?;
    Ok(if created {
        HttpResponse::Created().json(account)
    } else {
        HttpResponse::Ok().json(account)
    })
}

/// The caller's CLOB wallet: its address, when it was created and whether its API credentials
/// are ready. Never a key or a secret.
#[utoipa::path(tag = "copy-trade", security(("user_bearer" = [])), responses(
    (status = 200, body = ClobAccountView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`copy_clob_account_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clob-account")]
pub async fn clob_account(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<ClobAccountView>, ApiError> {
    Ok(web::Json(
        state.copy_trade.clob_account(user.user_id).await?,
    ))
}
