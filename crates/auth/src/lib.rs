//! Identity: who is calling.
//!
//! This crate owns users, their wallets, SIWE challenges, sessions (each a refresh-token
//! family), refresh tokens, service tokens, roles and each user's security log. It signs users
//! in with Sign-In with Ethereum ([`siwe`]), issues short-lived JWT access tokens and rotating
//! refresh tokens ([`tokens`]), and answers "is this caller allowed" questions for the HTTP
//! layer through [`AuthService`].
//!
//! It must not know about HTTP (no actix types) nor about any other context's tables.

mod access;
mod error;
mod models;
mod repo;
mod service;
pub mod signature;
pub mod siwe;
pub mod tokens;

pub use access::{
    ADMIN_ROLE, AccessAdmin, MintedServiceToken, PgAccessAdmin, Purged, ServiceIdentity,
    ServiceTokenInfo,
};
pub use error::AuthError;
pub use service::{
    AuthService, AuthSettings, Challenge, Me, PgAuthService, SecurityEvent, SignedIn, TokenPair,
    Wallet,
};
pub use tokens::{AccessClaims, AccessTokens, JwtKeys};
