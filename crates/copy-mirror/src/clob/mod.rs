//! The Polymarket CLOB V2 client: what turns a mirror intent into a signed order at the venue
//! and reads back what became of it.
//!
//! [`auth`] builds the L1 (EIP-712 `ClobAuth`) and L2 (HMAC) header sets; [`rules`] checks an
//! order's type, price, size and expiration and computes its integer amounts; [`order`] signs
//! the V2 `Order` for the CTF or NegRisk exchange, deterministic in the caller's client order
//! id and timestamp; [`client`] is [`ClobClient`], which posts, looks up, lists and cancels
//! orders and sorts every failure into rejected, unavailable (never sent) or ambiguous (may
//! exist, never resent by this client).
//!
//! Orders are signed with alloy here rather than through `polymarket-client-sdk`: that crate
//! (0.4.4) signs the V1 `Order` in domain version 1, which the venue refuses since the V2
//! cutover.

pub mod auth;
pub mod client;
pub mod executor;
pub mod order;
pub mod rules;
pub mod wire;

pub use auth::{ApiCredentials, AuthError};
pub use client::{
    CancelOutcome, ClobClient, ClobError, ClobPage, ClobSettings, ClobTrade, OpenOrder,
    OrderFilter, OrderPlacement, TradeFilter,
};
pub use executor::{ClobAccount, ClobAccounts, ClobExecutor, HouseAccount};
pub use order::{Exchanges, OrderSigner, OrderWire, SignedOrder, Wallet};
pub use rules::{OrderArgs, OrderError, OrderType};
