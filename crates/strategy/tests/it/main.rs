//! Tests of the public API of `clones-strategy`: every error code, every node kind's
//! evaluation with hand-checked values, the default draft, the documented example, replay,
//! and property tests (no panics, determinism, fingerprint invariance).

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers should fail loudly on broken setup"
)]

mod draft;
mod errors;
mod evaluation;
mod example;
mod properties;
mod replay;
mod support;
