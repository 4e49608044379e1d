//! Prop accounts: owner reads of accounts, positions, orders, fills, ledger and equity, and
//! admin halt, resume, cash adjustments and the audit log. Another user's account answers 404
//! exactly like one that does not exist.
//!
//! Bodies are prop-engine's views as they are; amounts, prices and sizes are decimal strings.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use clones_prop_engine::{
    AccountView, AuditEntry, EquityPoint, FillView, LedgerEventView, OrderView, PositionView,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{AdminUser, AuthUser, Json};
use crate::paging::{BAD_PAGE, PageParams, Paged, paged_response};
use crate::{ApiError, AppState, Problem};

pub(super) fn configure_owner(config: &mut ServiceConfig) {
    config
        .service(accounts)
        .service(account)
        .service(positions)
        .service(orders)
        .service(fills)
        .service(ledger)
        .service(equity);
}

pub(super) fn configure_admin(config: &mut ServiceConfig) {
    config
        .service(halt)
        .service(resume)
        .service(adjust)
        .service(audit);
}

/// Filter of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this account's entries.
    pub account_id: Option<Uuid>,
}

/// The reason for a halt or a resume.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropReason {
    /// Why (1-500 characters after trimming); recorded in the audit log.
    pub reason: String,
}

/// A cash adjustment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropAdjustment {
    /// Signed decimal string: positive credits cash, negative debits it; non-zero, at most 10
    /// decimals.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Why (1-500 characters after trimming); recorded in the audit log.
    pub reason: String,
}

/// The caller's prop accounts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropAccounts {
    /// Newest first.
    pub items: Vec<AccountView>,
}

/// An account's positions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropPositions {
    /// Flat positions included, for their realized PnL.
    pub items: Vec<PositionView>,
}

paged_response!(
    /// A page of an account's orders.
    PropOrders,
    OrderView,
    "Newest first."
);

paged_response!(
    /// A page of an account's fills.
    PropFills,
    FillView,
    "Newest first."
);

paged_response!(
    /// A page of an account's ledger.
    PropLedger,
    LedgerEventView,
    "Events with their entries, newest first."
);

paged_response!(
    /// A page of an account's equity curve.
    PropEquity,
    EquityPoint,
    "Mark-to-market snapshots, newest first."
);

paged_response!(
    /// Admin actions on prop accounts.
    PropAudit,
    AuditEntry,
    "Newest first."
);

/// The caller's prop accounts.
#[utoipa::path(tag = "prop", security(("user_bearer" = [])), responses(
    (status = 200, body = PropAccounts),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts")]
pub async fn accounts(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<PropAccounts>, ApiError> {
    Ok(web::Json(PropAccounts {
        items: state.prop.accounts(user.user_id).await?,
    }))
}

/// One of the caller's prop accounts, with its cash, status and risk limits.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id")), security(("user_bearer" = [])), responses(
    (status = 200, body = AccountView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}")]
pub async fn account(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<AccountView>, ApiError> {
    Ok(web::Json(
        state.prop.account(user.user_id, id.into_inner()).await?,
    ))
}

/// The account's positions.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id")), security(("user_bearer" = [])), responses(
    (status = 200, body = PropPositions),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/positions")]
pub async fn positions(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<PropPositions>, ApiError> {
    Ok(web::Json(PropPositions {
        items: state.prop.positions(user.user_id, id.into_inner()).await?,
    }))
}

/// The account's orders (gate rejections and no-fills included), newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = PropOrders),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/orders")]
pub async fn orders(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<PropOrders>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .orders(user.user_id, id.into_inner(), query.page)
            .await?
            .into(),
    ))
}

/// The account's fills, newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = PropFills),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/fills")]
pub async fn fills(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<PropFills>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .fills(user.user_id, id.into_inner(), query.page)
            .await?
            .into(),
    ))
}

/// The account's ledger events with their entries (each event sums to zero), newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = PropLedger),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/ledger")]
pub async fn ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<PropLedger>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .ledger(user.user_id, id.into_inner(), query.page)
            .await?
            .into(),
    ))
}

/// The account's equity curve (mark-to-market snapshots), newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = PropEquity),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/equity")]
pub async fn equity(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Paged,
) -> Result<web::Json<PropEquity>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .equity_curve(user.user_id, id.into_inner(), query.page)
            .await?
            .into(),
    ))
}

/// Halts an account: no order executes until it is resumed.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id")), request_body = PropReason, security(("user_bearer" = [])), responses(
    (status = 200, description = "halted; the audit entry", body = AuditEntry),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already halted", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "account closed", body = Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/halt")]
pub async fn halt(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<PropReason>,
) -> Result<web::Json<AuditEntry>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .halt(admin.0.user_id, id.into_inner(), &body.reason)
            .await?,
    ))
}

/// Resumes a halted account.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id")), request_body = PropReason, security(("user_bearer" = [])), responses(
    (status = 200, description = "resumed; the audit entry", body = AuditEntry),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not halted", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "account closed", body = Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/resume")]
pub async fn resume(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<PropReason>,
) -> Result<web::Json<AuditEntry>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .resume(admin.0.user_id, id.into_inner(), &body.reason)
            .await?,
    ))
}

/// Credits (positive) or debits (negative) the account's cash with an `adjustment` ledger
/// event referring to the audit entry.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id")), request_body = PropAdjustment, security(("user_bearer" = [])), responses(
    (status = 201, description = "adjusted; the audit entry (`details` holds the amount and ledger event id)", body = AuditEntry),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "account closed", body = Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/adjustments")]
pub async fn adjust(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    body: Json<PropAdjustment>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let entry = state
        .prop
        .adjust(admin.0.user_id, id.into_inner(), body.amount, &body.reason)
        .await?;
    Ok(HttpResponse::Created().json(entry))
}

/// The admin audit log of prop accounts, newest first.
#[utoipa::path(tag = "prop", params(AuditQuery, PageParams), security(("user_bearer" = [])), responses(
    (status = 200, body = PropAudit),
    (status = 400, description = BAD_PAGE, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: Paged<AuditQuery>,
) -> Result<web::Json<PropAudit>, ApiError> {
    Ok(web::Json(
        state
            .prop
            .audit_log(query.filter.account_id, query.page)
            .await?
            .into(),
    ))
}
