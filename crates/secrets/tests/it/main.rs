//! Secret custody against real PostgreSQL: encryptions are counted in the transaction that
//! stores them, reads migrate legacy plaintexts and older versions in place, rotation moves a
//! column across versions in batches through row-level security, and the nonce budget warns
//! and then refuses.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod columns;
mod rotation;
mod support;
mod usage;
