//! Lifecycle tests against real PostgreSQL: starts, evaluation of every rule, retries, voids,
//! refund authorizations, Arena admission, trading assignments and display facts.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod admin;
mod arena;
mod auditions;
mod evaluation;
mod support;
