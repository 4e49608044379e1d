//! Deployments against real PostgreSQL: the whole path from draft to archived through the
//! owner's actions and the chain's outcomes, refusals that write nothing, the append-only
//! history, another tenant's 404, a race of two starts, and the pool's deposit key sealed with
//! clones-secrets, read back, migrated and rotated.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod flow;
mod keys;
mod support;
