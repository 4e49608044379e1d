//! The Polymarket CLOB V2 client: what turns a mirror intent into a signed order at the venue
//! and reads back what became of it.
//!
//! [`auth`] builds the L1 (EIP-712 `ClobAuth`) and L2 (HMAC) header sets.

pub mod auth;

pub use auth::{ApiCredentials, AuthError};
