//! Deployments against real PostgreSQL: the whole path from draft to archived through the
//! owner's actions and the chain's outcomes, refusals that write nothing, the append-only
//! history, another tenant's 404, a race of two starts, and the pool's deposit key sealed with
//! clones-secrets, read back, migrated and rotated; and on the local chain, the owner's signed
//! factory transactions confirmed by the worker's check, once, or failing the deployment.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod chain;
mod flow;
mod keys;
mod support;
