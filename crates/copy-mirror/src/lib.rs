//! The Polymarket copy-trading mirror: what turns "a target wallet traded" into "the tenant
//! placed a mirror order", at most once.
//!
//! The pure core, in pipeline order: [`fill`] normalises a Data API trade into an
//! [`ObservedFill`] with the frozen id `data-api:<tx>:<asset>:<side>:<ts>`; [`ids`] derives the
//! stable target id (UUIDv5 of the wallet) and the idempotency key
//! `keccak256(target_id ":" fill_id)`; [`plan`](mod@plan) decides whether and how much to
//! mirror (dedup, the target's policy, the tenant's position, the smaller of configured and
//! safety caps); [`grant`] authorises an intent against the tenant's grant (per order, per
//! day, fills per hour). None of them reads a clock, a database or the network: the same input
//! gives the same decision, which the deterministic simulation relies on.
//!
//! [`clob`] is the venue client the live executor places through: signed V2 orders, L1/L2
//! authentication and outcomes sorted into accepted, rejected and ambiguous.
//!
//! Invariants every layer keeps: a fill's ledger row commits before its order is sent
//! (INSERT_BEFORE_PLACE), the id and key formulas never change, and every observed fill ends
//! in exactly one decision.

pub mod clob;
pub mod fill;
pub mod grant;
pub mod ids;
pub mod plan;

pub use fill::{DataApiTrade, FillError, ObservedFill, TradeSide, normalise};
pub use grant::{Grant, GrantUsage, authorize};
pub use ids::{IdempotencyKey, target_id};
pub use plan::{
    MarketRules, MirrorIntent, PlanInput, SAFETY_MAX_POSITION_USDC, SAFETY_MAX_USDC_PER_TRADE,
    Sizing, SkipReason, TargetPolicy, plan,
};
