//! Prop engine tests: properties of the pure core, and the service against real PostgreSQL.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod admin;
mod batch;
mod execution;
mod ledger;
mod market_memory;
mod paging;
mod properties;
mod support;
