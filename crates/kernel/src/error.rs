//! Error kinds shared by every domain error.
//!
//! Domain crates keep their own `thiserror` enums; each variant reports one [`ErrorKind`] and a
//! stable machine code. The web layer maps the kind to an HTTP status in exactly one place.

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
