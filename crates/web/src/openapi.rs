//! The OpenAPI 3.1 document. Paths are collected from the route registrations themselves
//! (`utoipa-actix-web`), so a route cannot exist without appearing here.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
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
        (name = "decisions", description = "Decision runs of your clones: proposals, executions, model artifacts; dry runs"),
        (name = "lifecycle", description = "Auditions, their evaluation, retries, the Promotion Queue and the Arena; admin void and refund authorization"),
        (name = "ingestion", description = "Ingestion runs and source health"),
        (name = "operations", description = "Health, readiness, worker heartbeats, this document"),
    )
)]
pub struct BaseDocument;

/// The complete document, built without any database or server (for `clonectl openapi`).
pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::split().1
}
