//! The vault against a real local chain (`scripts/chain start`): every test deploys its own
//! `TestToken` and `SignedVault` from a freshly funded account, with a random quote signer and
//! random payers, so tests run in parallel without sharing state.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers should fail loudly on broken setup"
)]

mod contract;
mod signing;
mod support;
mod verifier;
