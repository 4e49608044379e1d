//! Route registration. Each submodule is one route family; [`split`] assembles them into an
//! app and the OpenAPI paths at once.

mod admin;
mod auth;
mod backtests;
mod clones;
mod copy_trade;
mod decisions;
mod deployments;
mod economy;
mod lifecycle;
mod market;
mod marketplace;
mod me;
mod moderation;
mod operations;
mod prop;
mod public;

pub(crate) use operations::HEALTH_READ_SCOPE;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use actix_web::dev::{HttpServiceFactory, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, http::Method};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, OpenApiFactory, scope};

use crate::ApiError;
use crate::openapi::BaseDocument;

/// What [`split`] assembles: the app, its OpenAPI document, and the schema names that two
/// different Rust types registered (empty unless a type needs `#[schema(as = ...)]`).
pub(crate) struct Routes<A> {
    /// The app with every route.
    pub(crate) app: A,
    /// The OpenAPI document of those routes.
    pub(crate) document: utoipa::openapi::OpenApi,
    /// Component names claimed by schemas that differ; the document kept only one of each.
    pub(crate) schema_collisions: Vec<String>,
}

/// Every route, and the OpenAPI document describing them.
pub(crate) fn split() -> Routes<
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
> {
    let audit = SchemaAudit::default();
    let audited = |configure: fn(&mut ServiceConfig<'_, '_>)| {
        let audit = &audit;
        move |config: &mut utoipa_actix_web::service_config::ServiceConfig<'_>| {
            configure(&mut ServiceConfig {
                inner: config,
                audit,
            });
        }
    };
    let (app, mut document) = App::new()
        .into_utoipa_app()
        .openapi(BaseDocument::openapi())
        .configure(audited(operations::configure_root))
        .service(
            scope::scope("/api/v1")
                .configure(audited(operations::configure_api))
                .configure(audited(me::configure))
                .service(
                    scope::scope("/auth")
                        .wrap(from_fn(crate::rate_limit::middleware))
                        .configure(audited(auth::configure)),
                )
                .service(
                    scope::scope("/clone")
                        .configure(audited(clones::configure))
                        .configure(audited(backtests::configure))
                        .configure(audited(deployments::configure))
                        .configure(audited(economy::configure_clone)),
                )
                .service(scope::scope("/clones").configure(audited(decisions::configure)))
                .service(scope::scope("/public").configure(audited(public::configure)))
                .service(scope::scope("/economy").configure(audited(economy::configure)))
                .service(scope::scope("/copy-trade").configure(audited(copy_trade::configure)))
                .service(scope::scope("/marketplace").configure(audited(marketplace::configure)))
                .service(scope::scope("/prop").configure(audited(prop::configure_owner)))
                .service(scope::scope("/lifecycle").configure(audited(lifecycle::configure_owner)))
                .configure(audited(market::configure))
                .service(
                    scope::scope("/admin/moderation").configure(audited(moderation::configure)),
                )
                .service(scope::scope("/admin/prop").configure(audited(prop::configure_admin)))
                .service(
                    scope::scope("/admin/marketplace")
                        .configure(audited(marketplace::configure_admin)),
                )
                .service(
                    scope::scope("/admin/lifecycle").configure(audited(lifecycle::configure_admin)),
                )
                .service(scope::scope("/admin").configure(audited(admin::configure))),
        )
        .split_for_parts();
    crate::openapi::document_extractor_errors(&mut document);
    Routes {
        app,
        document,
        schema_collisions: audit.collisions.into_inner().into_iter().collect(),
    }
}

/// Route registration for the route modules: utoipa-actix-web's config, plus an audit of the
/// schemas each handler brings. utoipa merges schemas by name, so two types of one name would
/// otherwise silently share one component.
pub(crate) struct ServiceConfig<'a, 's> {
    inner: &'a mut utoipa_actix_web::service_config::ServiceConfig<'s>,
    audit: &'a SchemaAudit,
}

impl ServiceConfig<'_, '_> {
    /// Registers a handler (its route, OpenAPI path and schemas).
    pub(crate) fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        self.audit.record(&factory);
        self.inner.service(factory);
        self
    }
}

/// Every schema name seen so far with the first schema registered under it.
#[derive(Default)]
struct SchemaAudit {
    seen: RefCell<BTreeMap<String, serde_json::Value>>,
    collisions: RefCell<BTreeSet<String>>,
}

impl SchemaAudit {
    fn record(&self, factory: &impl OpenApiFactory) {
        let mut schemas = Vec::new();
        factory.schemas(&mut schemas);
        let mut seen = self.seen.borrow_mut();
        for (name, schema) in schemas {
            let schema = serde_json::to_value(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some(first) if *first != schema => {
                    self.collisions.borrow_mut().insert(name);
                }
                Some(_) => {}
                None => {
                    seen.insert(name, schema);
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use utoipa::ToSchema;

    use super::*;

    #[test]
    fn no_two_types_share_a_schema_name() {
        assert_eq!(split().schema_collisions, Vec::<String>::new());
    }

    mod decisions {
        /// A run status.
        #[derive(utoipa::ToSchema)]
        #[expect(dead_code, reason = "only its schema is used")]
        pub enum RunStatus {
            Decided,
        }
    }

    mod ingestion {
        /// Another run status of the same name.
        #[derive(utoipa::ToSchema)]
        #[expect(dead_code, reason = "only its schema is used")]
        pub enum RunStatus {
            Succeeded,
        }
    }

    /// A handler that brings one type's schema.
    struct Brings<T>(std::marker::PhantomData<T>);

    impl<T: ToSchema> OpenApiFactory for Brings<T> {
        fn paths(&self) -> utoipa::openapi::path::Paths {
            utoipa::openapi::path::Paths::new()
        }

        fn schemas(
            &self,
            schemas: &mut Vec<(
                String,
                utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
            )>,
        ) {
            schemas.push((T::name().into_owned(), T::schema()));
        }
    }

    #[test]
    fn the_audit_catches_two_types_of_one_name() {
        let audit = SchemaAudit::default();
        audit.record(&Brings::<decisions::RunStatus>(std::marker::PhantomData));
        audit.record(&Brings::<decisions::RunStatus>(std::marker::PhantomData));
        assert!(audit.collisions.borrow().is_empty());
        audit.record(&Brings::<ingestion::RunStatus>(std::marker::PhantomData));
        assert_eq!(
            audit
                .collisions
                .into_inner()
                .into_iter()
                .collect::<Vec<_>>(),
            ["RunStatus"]
        );
    }
}
