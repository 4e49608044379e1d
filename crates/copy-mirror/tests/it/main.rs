//! Copy-mirror tests that need more than the pure core: the CLOB client against a stub CLOB
//! on 127.0.0.1.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers should fail loudly on broken setup"
)]

mod clob;
mod stub;
