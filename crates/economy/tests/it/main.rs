//! The paid paths against real PostgreSQL and the real local chain: quote -> deposit ->
//! verification -> purchase -> clone or upgrade, with every rejection, replays and races.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod grants;
mod payments;
mod royalties;
mod support;
