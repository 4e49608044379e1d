//! Copy-trade tests against real PostgreSQL and stub servers on 127.0.0.1: the pipeline places
//! each fill at most once across repeat sightings, each cap refuses with a recorded reason, a
//! crash or an ambiguous answer after the claim is reconciled without a second order, removed
//! targets stop, another tenant sees nothing, and the CLOB client against a stub CLOB.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod accounts;
mod clob;
mod leases;
mod live;
mod pipeline;
mod simulation;
mod stream;
mod stub;
mod support;
mod tenancy;
mod watch;
