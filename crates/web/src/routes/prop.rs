//! Prop accounts: owner reads of accounts, positions, orders, fills, ledger and equity, and
//! admin halt, resume, cash adjustments and the audit log. Another user's account answers 404
//! exactly like one that does not exist.
//!
//! Bodies are prop-engine's views as they are; amounts, prices and sizes are decimal strings.

use super::ServiceConfig;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use clones_prop_engine::{
    AccountView, AuditEntry, EquityPoint, FillView, LedgerEventView, OrderView, Page, PositionView,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::extract::{AdminUser, AuthUser, Json, Query};
use crate::{ApiError, AppState, Problem};

/// The most items one page or audit read returns.
const MAX_LIMIT: u32 = 500;

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

fn check_limit(limit: Option<u32>) -> Result<(), ApiError> {
    match limit {
        Some(value) if value == 0 || value > MAX_LIMIT => Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1-{MAX_LIMIT}"),
        )),
        _ => Ok(()),
    }
}

/// Paging of a history, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Most items (1-500, default 100).
    pub limit: Option<u32>,
    /// Only items strictly older than this RFC 3339 time (the last item's `created_at`, or
    /// `at` for equity points, of the previous page).
    pub before: Option<DateTime<Utc>>,
}

impl PageQuery {
    fn page(self) -> Result<Page, ApiError> {
        check_limit(self.limit)?;
        Ok(Page {
            limit: self.limit,
            before: self.before,
        })
    }
}

/// Filter of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this account's entries.
    pub account_id: Option<Uuid>,
    /// Most items (1-500, default 100).
    pub limit: Option<u32>,
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

/// A page of an account's orders.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropOrders {
    /// Newest first.
    pub items: Vec<OrderView>,
}

/// A page of an account's fills.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropFills {
    /// Newest first.
    pub items: Vec<FillView>,
}

/// A page of an account's ledger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropLedger {
    /// Events with their entries, newest first.
    pub items: Vec<LedgerEventView>,
}

/// A page of an account's equity curve.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropEquity {
    /// Mark-to-market snapshots, newest first.
    pub items: Vec<EquityPoint>,
}

/// Admin actions on prop accounts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PropAudit {
    /// Newest first.
    pub items: Vec<AuditEntry>,
}

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
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = PropOrders),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/orders")]
pub async fn orders(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<web::Json<PropOrders>, ApiError> {
    let page = query.into_inner().page()?;
    Ok(web::Json(PropOrders {
        items: state
            .prop
            .orders(user.user_id, id.into_inner(), page)
            .await?,
    }))
}

/// The account's fills, newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = PropFills),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/fills")]
pub async fn fills(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<web::Json<PropFills>, ApiError> {
    let page = query.into_inner().page()?;
    Ok(web::Json(PropFills {
        items: state
            .prop
            .fills(user.user_id, id.into_inner(), page)
            .await?,
    }))
}

/// The account's ledger events with their entries (each event sums to zero), newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = PropLedger),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/ledger")]
pub async fn ledger(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<web::Json<PropLedger>, ApiError> {
    let page = query.into_inner().page()?;
    Ok(web::Json(PropLedger {
        items: state
            .prop
            .ledger(user.user_id, id.into_inner(), page)
            .await?,
    }))
}

/// The account's equity curve (mark-to-market snapshots), newest first.
#[utoipa::path(tag = "prop", params(("id" = Uuid, Path, description = "account id"), PageQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = PropEquity),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/accounts/{id}/equity")]
pub async fn equity(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<web::Json<PropEquity>, ApiError> {
    let page = query.into_inner().page()?;
    Ok(web::Json(PropEquity {
        items: state
            .prop
            .equity_curve(user.user_id, id.into_inner(), page)
            .await?,
    }))
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
#[utoipa::path(tag = "prop", params(AuditQuery), security(("user_bearer" = [])), responses(
    (status = 200, body = PropAudit),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: Query<AuditQuery>,
) -> Result<web::Json<PropAudit>, ApiError> {
    let query = query.into_inner();
    check_limit(query.limit)?;
    Ok(web::Json(PropAudit {
        items: state
            .prop
            .audit_log(query.account_id, query.limit.unwrap_or(100))
            .await?,
    }))
}
