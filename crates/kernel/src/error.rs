//! Error kinds and the trait every domain error implements.
//!
//! Domain crates keep their own `thiserror` enums; each implements [`DomainError`], so every
//! variant reports one [`ErrorKind`] and a stable machine code, and errors that carry several
//! problems list them as [`FieldProblem`]s. The web layer maps the kind to an HTTP status in
//! exactly one place and knows no context's enum by name. This module must not know HTTP.

use serde::Serialize;

/// What sort of failure an error is, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is malformed or fails a validation rule on its shape.
    InvalidInput,
    /// The caller is not authenticated, or its credentials are invalid.
    Unauthenticated,
    /// The caller is authenticated but lacks a role or scope.
    Forbidden,
    /// The resource does not exist, or is not visible to the caller.
    NotFound,
    /// The request conflicts with current state (duplicates, races, idempotency clashes).
    Conflict,
    /// The input is well formed but a business rule refuses it.
    RuleViolation,
    /// The caller is sending too many requests.
    RateLimited,
    /// A dependency (database, chain, remote API) is unavailable; the request may be retried.
    Unavailable,
    /// A bug or an unexpected failure; details are logged, never shown.
    Internal,
}

/// One of several problems an error carries, naming the part of the input it concerns.
///
/// Serialized as `{"code": "...", "node": "..." | null, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The stable machine code of this problem (for a strategy graph, e.g. `cycle`).
    pub code: String,
    /// The part of the input concerned, when there is one (a strategy graph's node id).
    pub node: Option<String>,
    /// What is wrong, for humans.
    pub message: String,
}

/// A failure of a bounded context, as the transport layers see it.
///
/// `code` is part of the public API: clients match on it, so a code is never renamed or reused.
pub trait DomainError: std::error::Error {
    /// The transport-independent kind.
    fn kind(&self) -> ErrorKind;

    /// The stable machine code.
    fn code(&self) -> &'static str;

    /// Every problem found, for errors that carry several (an invalid strategy graph).
    fn problems(&self) -> Option<&[FieldProblem]> {
        None
    }

    /// For a [`ErrorKind::RateLimited`] refusal, the seconds after which a retry can succeed
    /// (HTTP's `Retry-After`).
    fn retry_after_secs(&self) -> Option<u64> {
        None
    }
}
