//! Deployment of one's clone: its status and history, and the owner's actions on it (start,
//! start the pool step, cancel, retry, deactivate, archive). Every status change is decided by
//! the deployment state machine; an action it refuses answers 409 and changes nothing.
//! Another user's clone answers 404 exactly like one that does not exist.
//!
//! In a pending signature step the view carries the unsigned factory call (`transaction`) the
//! owner's wallet signs and sends; the owner then submits the transaction's hash, which the
//! deployment worker confirms from the receipt.

use super::ServiceConfig;
use actix_web::{get, post, web};
use clones_deployment::{
    DeploymentHistoryEntry, DeploymentTransactionView, DeploymentView, OwnerAction,
    TransactionSubmission,
};
use uuid::Uuid;

use crate::extract::{AuthUser, Json};
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure(config: &mut ServiceConfig) {
    config
        .service(read)
        .service(history)
        .service(initiate)
        .service(initiate_pool)
        .service(cancel)
        .service(retry)
        .service(deactivate)
        .service(archive)
        .service(submit_transaction);
}

paged_response!(
    /// A page of a deployment's transitions, oldest first.
    DeploymentHistoryPage,
    DeploymentHistoryEntry,
    "The transitions."
);

async fn act(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    action: OwnerAction,
) -> Result<web::Json<DeploymentView>, ApiError> {
    Ok(web::Json(
        state.deployments.act(user.user_id, id, action).await?,
    ))
}

/// The clone's deployment: status, token, pool and deposit addresses, the last error. A clone
/// that never started one is a `draft` without timestamps.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/deployment")]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    Ok(web::Json(
        state
            .deployments
            .deployment(user.user_id, id.into_inner())
            .await?,
    ))
}

/// The deployment's transitions, oldest first: who, event, from, to, error, when.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentHistoryPage),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/clones/{id}/deployment/history")]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<DeploymentHistoryPage>, ApiError> {
    let page = state
        .deployments
        .history(user.user_id, id.into_inner(), query.page)
        .await?;
    Ok(web::Json(page.into()))
}

/// Starts deploying a draft: `pending_token_signature`, waiting for the owner's wallet to
/// create the token. The view's `transaction` is the factory call to sign and send (when the
/// chain is configured).
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed` (not a draft)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/initiate")]
pub async fn initiate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::Initiate).await
}

/// Starts the pool step once the token exists: `pending_pool_signature`. The pool's deposit
/// address is generated the first time (its key is stored encrypted, never returned). The
/// view's `transaction` is the factory call to sign and send (when the chain is configured).
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed` (no token created), `deployment_guard_failed`", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "`secrets_not_configured`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/pool")]
pub async fn initiate_pool(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::InitiatePool).await
}

/// Abandons the step in progress: back to `draft` from the token step, `failed` from the pool
/// step or after the token was created.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::Cancel).await
}

/// Retries a failed deployment: the token step when no token exists, the pool step when one
/// does (reusing the pool's deposit address).
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed` (not failed)", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "`secrets_not_configured`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::Retry).await
}

/// Takes a deployed clone out of service.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed` (not deployed)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/deactivate")]
pub async fn deactivate(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::Deactivate).await
}

/// Archives a draft, failed or deactivated deployment; nothing can happen to it afterwards.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_transition_not_allowed`", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeploymentView>, ApiError> {
    act(&state, &user, id.into_inner(), OwnerAction::Archive).await
}

/// Submits the hash of the transaction the owner's wallet sent for the pending signature step
/// (the view's `transaction`). The deployment worker confirms it from the receipt and advances
/// the deployment, or fails it when the transaction reverted or created something else.
/// Submitting the same hash again answers the same submission.
#[utoipa::path(tag = "deployments", params(("id" = Uuid, Path, description = "clone id")), request_body = TransactionSubmission, security(("user_bearer" = [])), responses(
    (status = 200, body = DeploymentTransactionView),
    (status = 400, description = "`invalid_input` (not 0x + 64 hex digits), `invalid_body`", body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`clone_not_found`", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`deployment_not_awaiting_signature` (not in a pending signature step)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/clones/{id}/deployment/transactions")]
pub async fn submit_transaction(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<TransactionSubmission>,
) -> Result<web::Json<DeploymentTransactionView>, ApiError> {
    Ok(web::Json(
        state
            .deployments
            .submit_transaction(user.user_id, id.into_inner(), &body.into_inner().tx_hash)
            .await?,
    ))
}
