//! Copy-trade tests against real PostgreSQL: the pipeline places each fill at most once across
//! repeat sightings, each cap refuses with a recorded reason, a crash or an ambiguous answer
//! after the claim is reconciled without a second order, removed targets stop, and another
//! tenant sees nothing.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod pipeline;
mod simulation;
mod support;
mod tenancy;
mod watch;
