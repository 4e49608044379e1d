//! End-to-end tests of the HTTP API: a real server on a loopback port 0, real PostgreSQL (one
//! database per test), real signatures from keys generated in the test.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod admin;
mod auth;
mod backtests;
mod clones;
mod copy_trade;
mod decisions;
mod deployments;
mod economy;
mod errors;
mod lifecycle;
mod market;
mod marketplace;
mod metrics;
mod operations;
mod prop;
mod queries;
mod support;
