//! Route registration. Each submodule is one route family; [`split`] assembles them into an
//! app and the OpenAPI paths at once.

mod admin;
mod auth;
mod clones;
mod decisions;
mod economy;
mod lifecycle;
mod market;
mod me;
mod moderation;
mod operations;
mod prop;
mod public;

pub(crate) use operations::HEALTH_READ_SCOPE;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, http::Method};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};

use crate::ApiError;
use crate::openapi::BaseDocument;

/// Every route, and the OpenAPI document describing them.
pub(crate) fn split() -> (
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    utoipa::openapi::OpenApi,
) {
    App::new()
        .into_utoipa_app()
        .openapi(BaseDocument::openapi())
        .service(operations::healthz)
        .service(operations::readyz)
        .service(
            scope::scope("/api/v1")
                .service(operations::openapi_json)
                .service(operations::worker_health)
                .service(me::me)
                .service(me::security_events)
                .service(
                    scope::scope("/auth")
                        .wrap(from_fn(crate::rate_limit::middleware))
                        .configure(auth::configure),
                )
                .service(scope::scope("/clone").configure(clones::configure))
                .service(scope::scope("/clones").configure(decisions::configure))
                .service(scope::scope("/public").configure(public::configure))
                .service(scope::scope("/economy").configure(economy::configure))
                .service(scope::scope("/prop").configure(prop::configure_owner))
                .service(scope::scope("/lifecycle").configure(lifecycle::configure_owner))
                .configure(market::configure)
                .service(scope::scope("/admin/moderation").configure(moderation::configure))
                .service(scope::scope("/admin/prop").configure(prop::configure_admin))
                .service(scope::scope("/admin/lifecycle").configure(lifecycle::configure_admin))
                .service(scope::scope("/admin").configure(admin::configure)),
        )
        .split_for_parts()
}

/// Anything no route matched (including a known path with another method): a problem+json
/// 404, and 204 for CORS preflights the CORS middleware let through.
pub(crate) async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent().finish());
    }
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "route_not_found",
        format!("no route for {} {}", req.method(), req.path()),
    ))
}
