//! Backtest-job tests against real PostgreSQL: the queue (leases, expiry, attempts, cancel),
//! usage and size limits, ownership, artifacts and retention, previews, and the
//! paper-consistency job on an account the prop engine traded.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod jobs;
mod limits;
mod paper;
mod support;
