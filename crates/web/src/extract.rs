//! Request extractors: who is calling (a user with a bearer JWT, an admin, or a service token),
//! query strings and JSON bodies whose errors become problem+json.
//!
//! Every route reads its query through [`Query`], the one place that refuses control
//! characters (PostgreSQL cannot store a NUL, and no filter means one), and its body through
//! [`Json`]: raw control characters in a JSON string are invalid JSON already, and an escaped
//! NUL (`\u0000`) is refused there; other escaped controls (a newline in a bio) are text.

use std::future::{Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use clones_auth::{AuthError, ServiceIdentity};
use uuid::Uuid;

use crate::{ApiError, AppState};

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::from_kind(
                clones_kernel::ErrorKind::Internal,
                "internal",
                "application state missing".into(),
            )
        })
}

/// The token in `Authorization: Bearer <token>`.
fn bearer(req: &HttpRequest) -> Result<String, AuthError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AuthError::InvalidAccessToken("missing Authorization header".into()))?;
    value
        .to_str()
        .ok()
        .and_then(|text| text.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            AuthError::InvalidAccessToken("expected `Authorization: Bearer <token>`".into())
        })
}

/// A signed-in user, from a valid access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    /// The user.
    pub user_id: Uuid,
    /// The session the token belongs to.
    pub session_id: Uuid,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready((|| {
            let state = state(req)?;
            let token = bearer(req)?;
            let claims = state.auth.authenticate(&token)?;
            Ok(AuthUser {
                user_id: claims.sub,
                session_id: claims.sid,
            })
        })())
    }
}

/// A signed-in user holding the admin role (checked against the database on every request,
/// so revoking the role takes effect at once).
#[derive(Debug, Clone, Copy)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload).into_inner();
        let state = state(req);
        Box::pin(async move {
            let user = user?;
            if state?.access.is_admin(user.user_id).await? {
                Ok(AdminUser(user))
            } else {
                Err(AuthError::AdminRequired.into())
            }
        })
    }
}

/// A worker or operator presenting a service token.
#[derive(Debug, Clone)]
pub struct ServiceCaller(pub ServiceIdentity);

impl FromRequest for ServiceCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req).map_err(|_| AuthError::InvalidServiceToken);
        let state = state(req);
        Box::pin(async move {
            let identity = state?.access.authenticate_service(&token?).await?;
            Ok(ServiceCaller(identity))
        })
    }
}

/// An operator: an admin user (bearer access token) or a service token holding the
/// `health:read` scope. Tokens starting with `cst_` are taken as service tokens.
#[derive(Debug, Clone)]
pub enum OperatorCaller {
    /// An admin user.
    Admin(AuthUser),
    /// A service token with `health:read`.
    Service(ServiceIdentity),
}

impl FromRequest for OperatorCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_service = bearer(req)
            .is_ok_and(|token| token.starts_with(clones_auth::tokens::SERVICE_TOKEN_PREFIX));
        if is_service {
            let caller = ServiceCaller::from_request(req, payload);
            Box::pin(async move {
                let caller = caller.await?;
                caller
                    .0
                    .require(crate::routes::HEALTH_READ_SCOPE)
                    .map_err(ApiError::from)?;
                Ok(OperatorCaller::Service(caller.0))
            })
        } else {
            let admin = AdminUser::from_request(req, payload);
            Box::pin(async move { Ok(OperatorCaller::Admin(admin.await?.0)) })
        }
    }
}

/// JSON body limits and error mapping: malformed JSON, wrong types and unknown fields are 400,
/// oversize bodies 413, a wrong content type 415; never a 500.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .error_handler(move |error, _req| {
            use actix_web::error::JsonPayloadError;
            let api_error = match &error {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("request body is larger than {limit_bytes} bytes"),
                ),
                JsonPayloadError::ContentType => ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "request body must be application/json",
                ),
                JsonPayloadError::Deserialize(inner) if inner.is_data() => {
                    invalid_body(inner.to_string())
                }
                JsonPayloadError::Deserialize(inner) => ApiError::bad_request(
                    "malformed_json",
                    format!("request body is not valid JSON: {inner}"),
                ),
                other => ApiError::bad_request("malformed_body", other.to_string()),
            };
            api_error.into()
        })
}

/// A JSON body deserialized into `T`, read under [`json_config`] (limit, content type, error
/// codes) like `web::Json`, except that a NUL anywhere in a string or key is `400 invalid_body`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Json<T> {
    // `web::Json`'s errors arrive already rendered by `json_config`'s handler.
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read as a JSON value first, so strings can be checked before `T` sees them.
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if holds_nul(&value) {
                return Err(invalid_body("strings must not contain NUL (\\u0000)".into()).into());
            }
            serde_json::from_value(value)
                .map(Json)
                .map_err(|error| invalid_body(error.to_string()).into())
        })
    }
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(name, field)| name.contains('\0') || holds_nul(field)),
        _ => false,
    }
}

fn invalid_body(detail: String) -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        format!("request body does not match the schema: {detail}"),
    )
}

/// A query string deserialized into `T`, like `web::Query`, except that a control character
/// anywhere in a name or value (after percent-decoding) is `400 invalid_query`, as is anything
/// `T` does not accept.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parsed query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> Query<T> {
    /// Parses a raw (still percent-encoded) query string.
    ///
    /// # Errors
    /// `400 invalid_query` for a control character or a query `T` does not accept.
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let tainted = url::form_urlencoded::parse(query.as_bytes()).find(|(name, value)| {
            name.chars().any(char::is_control) || value.chars().any(char::is_control)
        });
        if let Some((name, _)) = tainted {
            return Err(invalid_query(format!(
                "query parameter `{}` contains a control character",
                name.escape_debug()
            )));
        }
        web::Query::<T>::from_query(query)
            .map(|parsed| Query(parsed.into_inner()))
            .map_err(|error| invalid_query(error.to_string()))
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::from_query(req.query_string()))
    }
}

fn invalid_query(detail: String) -> ApiError {
    ApiError::bad_request("invalid_query", detail)
}

/// Errors of `web::Query` (not used by this crate's routes, which read [`Query`]) are 400
/// `invalid_query` too.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| invalid_query(error.to_string()).into())
}

/// Path-parameter errors (a malformed id) are 404: such a resource cannot exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_error, _req| ApiError::not_found().into())
}
