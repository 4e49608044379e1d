//! Market memory against real PostgreSQL (one database per test) and every source client
//! against local stub servers that serve the venues' documented response shapes.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod memory;
mod pages;
mod replay;
mod sources;
mod support;
