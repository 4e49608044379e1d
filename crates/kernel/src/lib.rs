//! The shared kernel: the few types every bounded context speaks.
//!
//! It owns the injectable [`Clock`], the coarse [`ErrorKind`] that the HTTP layer maps to status
//! codes, the [`DomainError`] trait every context's error enum implements (with its
//! [`FieldProblem`] list), the [`Secret`] wrapper for configuration values, and keyset pagination
//! ([`PageRequest`], [`Cursor`], [`Page`]). It must not depend on the
//! database, the web framework or any domain crate: everything else depends on it.

pub mod clock;
pub mod error;
pub mod page;
pub mod secret;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{DomainError, ErrorKind, FieldProblem};
pub use page::{Cursor, CursorKey, Page, PageError, PageRequest, TimeKey};
pub use secret::Secret;
