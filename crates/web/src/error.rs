//! The HTTP error type: every failure leaves the API as `application/problem+json` (RFC 9457)
//! with a stable machine `code`.
//!
//! This is the one place where error kinds become status codes. Internal errors are logged with
//! the request id and replaced by a generic message; their details never reach the client.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use clones_kernel::{DomainError, ErrorKind, FieldProblem};
use serde::Serialize;

use crate::request_id;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error body as RFC 9457 defines it, plus our `code` and `requestId` members.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI identifying the problem type: `urn:clones:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for humans.
    pub detail: String,
    /// The stable machine code clients match on.
    pub code: String,
    /// Every problem found, for errors that carry several (an invalid strategy graph lists
    /// each problem with its `code`, `node` and `message`). Always this one array shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// The request id (also in the `x-request-id` header), for support and logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    detail: String,
    /// Logged, never sent.
    internal: Option<String>,
    retry_after_secs: Option<u64>,
    /// Boxed: rare, and it would otherwise double the size of every `Result<_, ApiError>`.
    errors: Option<Box<[FieldProblem]>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

/// The status code for an error kind.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RuleViolation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An error with an explicit status, code and client-facing detail.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            internal: None,
            retry_after_secs: None,
            errors: None,
        }
    }

    /// An error of `kind`; internal and unavailable kinds keep `detail` for the log only.
    pub fn from_kind(kind: ErrorKind, code: &'static str, detail: String) -> Self {
        let status = status_for(kind);
        match kind {
            ErrorKind::Internal => Self {
                internal: Some(detail),
                ..Self::new(status, "internal", "an internal error occurred")
            },
            ErrorKind::Unavailable => Self {
                internal: Some(detail),
                ..Self::new(
                    status,
                    code,
                    "a dependency is temporarily unavailable; retry later",
                )
            },
            _ => Self::new(status, code, detail),
        }
    }

    /// 400 with a machine code.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404 for a route or resource that does not exist (or is not the caller's).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 429 telling the client when to retry.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; retry in {retry_after_secs} s"),
            )
        }
    }

    /// The machine code.
    pub fn code(&self) -> &str {
        &self.code
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = request_id::current();
        if let Some(internal) = &self.internal {
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or("-"),
                status = self.status.as_u16(),
                code = %self.code,
                error = %internal,
                "request failed"
            );
        }
        let body = Problem {
            problem_type: format!("urn:clones:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            errors: self.errors.as_deref().map(<[FieldProblem]>::to_vec),
            request_id,
        };
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

/// Every context's error reaches HTTP through this one conversion: its kind picks the status,
/// its code and problems go into the body unchanged.
impl<E: DomainError> From<E> for ApiError {
    fn from(error: E) -> Self {
        let mut api_error = Self::from_kind(error.kind(), error.code(), error.to_string());
        api_error.errors = error.problems().map(Box::from);
        api_error.retry_after_secs = error.retry_after_secs();
        api_error
    }
}

#[cfg(test)]
mod tests {
    use clones_kernel::FieldProblem;

    use super::*;

    /// A context this module has never heard of.
    #[derive(Debug, thiserror::Error)]
    enum NewContextError {
        #[error("the widget is broken")]
        Broken(Vec<FieldProblem>),
        #[error("socket closed")]
        Down,
    }

    impl DomainError for NewContextError {
        fn kind(&self) -> ErrorKind {
            match self {
                NewContextError::Broken(_) => ErrorKind::RuleViolation,
                NewContextError::Down => ErrorKind::Unavailable,
            }
        }

        fn code(&self) -> &'static str {
            match self {
                NewContextError::Broken(_) => "widget_broken",
                NewContextError::Down => "widget_unavailable",
            }
        }

        fn problems(&self) -> Option<&[FieldProblem]> {
            match self {
                NewContextError::Broken(problems) => Some(problems),
                NewContextError::Down => None,
            }
        }
    }

    #[test]
    fn any_domain_error_converts_with_its_status_code_and_problems() {
        let problem = FieldProblem {
            code: "cycle".into(),
            node: Some("a".into()),
            message: "loops".into(),
        };
        let error = ApiError::from(NewContextError::Broken(vec![problem.clone()]));
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code(), "widget_broken");
        assert_eq!(error.errors.as_deref(), Some(&[problem][..]));

        let error = ApiError::from(NewContextError::Down);
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code(), "widget_unavailable");
        assert_eq!(error.internal.as_deref(), Some("socket closed"));
        assert!(error.errors.is_none());
    }
}
