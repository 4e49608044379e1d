//! The marketplace on real PostgreSQL: uploads and their refusals, exact and behavioural
//! duplicates, the pipeline through both cycles with a fixed clock, mutation children with
//! lineage and the uploader preserved, administrator reviews, and what other users see.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod adoption;
mod cycles;
mod support;
mod uploads;
