//! The OpenAPI 3.1 document. Paths are collected from the route registrations themselves
//! (`utoipa-actix-web`), so a route cannot exist without appearing here.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The document as served at `/api/v1/openapi.json`.
pub struct Document(pub utoipa::openapi::OpenApi);

/// Security scheme name for user access tokens.
pub const USER_BEARER: &str = "user_bearer";
/// Security scheme name for service tokens.
pub const SERVICE_BEARER: &str = "service_bearer";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut user = Http::new(HttpAuthScheme::Bearer);
        user.bearer_format = Some("JWT".into());
        user.description = Some("Access token from POST /api/v1/auth/verify or /refresh.".into());
        components.add_security_scheme(USER_BEARER, SecurityScheme::Http(user));
        let mut service = Http::new(HttpAuthScheme::Bearer);
        service.bearer_format = Some("cst_…".into());
        service.description =
            Some("Service token minted with `clonectl mint-service-token`.".into());
        components.add_security_scheme(SERVICE_BEARER, SecurityScheme::Http(service));
    }
}

/// The document's fixed parts; paths are added by the route registrations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "clones API",
        description = "AI trading clones: sign-in, clones, auditions, Arena. Errors are \
                       application/problem+json with a stable `code`.",
    ),
    modifiers(&SecuritySchemes),
    components(schemas(crate::Problem)),
    tags(
        (name = "auth", description = "Sign-In with Ethereum, tokens, wallets"),
        (name = "me", description = "The signed-in user"),
        (name = "admin", description = "Administrator operations"),
        (name = "clones", description = "Your clones: strategy drafts and versions, entitlement, trade universe, public profile"),
        (name = "public", description = "Public clone profiles and reports"),
        (name = "moderation", description = "Administrator moderation of public profiles"),
        (name = "economy", description = "Quotes, SignedVault deposits, purchases"),
        (name = "market", description = "Market memory: assets, candles, mids, books, prediction markets, DeFi metrics"),
        (name = "prop", description = "Prop accounts: positions, orders, fills, ledger, equity; admin halt, resume, adjustments, audit"),
        (name = "copy-trade", description = "Copy trading: the wallets you mirror and their policy, your grant and kill switch, the fills ledger, decisions and sync health"),
        (name = "marketplace", description = "The strategy marketplace: upload strategies, browse reviewed ones with their backtests and lineage, and (administrators) review them"),
        (name = "backtests", description = "Backtests of your clones: jobs with progress, metrics, walk-forward folds, paper consistency and artifacts; previews"),
        (name = "deployments", description = "Deployment of your clones: status, history, start, pool step, cancel, retry, deactivate, archive"),
        (name = "decisions", description = "Decision runs of your clones: proposals, executions, model artifacts; dry runs"),
        (name = "lifecycle", description = "Auditions, their evaluation, retries, the Promotion Queue and the Arena; admin void and refund authorization"),
        (name = "ingestion", description = "Ingestion runs and source health"),
        (name = "operations", description = "Health, readiness, worker heartbeats, this document"),
    )
)]
pub struct BaseDocument;

/// The complete document, built without any database or server (for `clonectl openapi`).
pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::split().document
}

/// Adds the errors the extractors answer to every operation that can meet them, so no
/// handler has to list them: `415 unsupported_media_type` where there is a JSON body and
/// `400 invalid_query` where there are query parameters.
pub(crate) fn document_extractor_errors(document: &mut utoipa::openapi::OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let has_query = operation.parameters.iter().flatten().any(|parameter| {
                matches!(parameter, RefOr::T(p) if p.parameter_in == ParameterIn::Query)
            });
            if has_query {
                add_problem(
                    operation,
                    "400",
                    "invalid_query: a parameter is unknown, malformed or holds a control \
                     character (and the operation's own 400 codes)",
                );
            }
            if operation.request_body.is_some() {
                add_problem(
                    operation,
                    "415",
                    "unsupported_media_type: the body is not application/json",
                );
            }
        }
    }
}

/// A problem+json response under `status`, unless the operation documents that status itself.
fn add_problem(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        crate::PROBLEM_JSON,
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        });
}
