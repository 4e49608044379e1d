//! Identity: who is calling.
//!
//! This crate owns users, their wallets, SIWE challenges, sessions (each a refresh-token
//! family), refresh tokens, service tokens, roles and each user's security log. It signs users
//! in with Sign-In with Ethereum ([`siwe`]), issues short-lived JWT access tokens and rotating
//! refresh tokens ([`tokens`]), and answers "is this caller allowed" questions for the HTTP
//! layer through [`AuthService`]. Its two service traits, [`AuthService`] and [`AccessAdmin`],
//! are defined here; the values they return live in `views`, the PostgreSQL implementations in
//! `service` and `access`.
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
mod views;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use clones_kernel::{Page, PageRequest};
use uuid::Uuid;

pub use access::{ADMIN_ROLE, PgAccessAdmin};
pub use error::AuthError;
pub use service::{AuthSettings, PgAuthService};
pub use views::{
    Challenge, Me, MintedServiceToken, Purged, SecurityEvent, ServiceIdentity, ServiceTokenInfo,
    SignedIn, TokenPair, Wallet,
};

pub use tokens::{AccessClaims, AccessTokens, JwtKeys};

/// Identity operations used by the HTTP layer, workers and the operator CLI.
#[async_trait]
pub trait AuthService: Send + Sync {
    /// Issues a sign-in challenge for `address` on `chain_id`.
    async fn sign_in_challenge(&self, address: &str, chain_id: u64)
    -> Result<Challenge, AuthError>;

    /// Verifies a signed sign-in challenge and opens a session, creating the user on first
    /// sign-in. A failed verification consumes nothing.
    async fn verify_sign_in(&self, message: &str, signature: &str) -> Result<SignedIn, AuthError>;

    /// Issues a challenge for `user_id` to link another wallet.
    async fn link_challenge(
        &self,
        user_id: Uuid,
        address: &str,
        chain_id: u64,
    ) -> Result<Challenge, AuthError>;

    /// Verifies a signed link challenge and links the wallet to `user_id`.
    async fn link_wallet(
        &self,
        user_id: Uuid,
        message: &str,
        signature: &str,
    ) -> Result<Wallet, AuthError>;

    /// Exchanges a refresh token for a new pair; reuse of a spent token revokes its family.
    async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError>;

    /// Validates an access token (no database access).
    fn authenticate(&self, access_token: &str) -> Result<AccessClaims, AuthError>;

    /// Ends one session of `user_id`.
    async fn logout(&self, user_id: Uuid, session_id: Uuid) -> Result<(), AuthError>;

    /// Ends every session of `user_id`, returning how many were live.
    async fn logout_all(&self, user_id: Uuid) -> Result<usize, AuthError>;

    /// The user's account, wallets and roles.
    async fn me(&self, user_id: Uuid) -> Result<Me, AuthError>;

    /// The user's security events, newest first by (time, id), one page at a time (row-level
    /// security scoped to the user).
    async fn security_events(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<SecurityEvent>, AuthError>;
}

/// Roles, service tokens and housekeeping.
#[async_trait]
pub trait AccessAdmin: Send + Sync {
    /// Whether the user holds the admin role.
    async fn is_admin(&self, user_id: Uuid) -> Result<bool, AuthError>;

    /// Validates a service token and records its use.
    async fn authenticate_service(&self, token: &str) -> Result<ServiceIdentity, AuthError>;

    /// Creates a service token.
    async fn mint_service_token(
        &self,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<MintedServiceToken, AuthError>;

    /// Revokes a service token; false when it was already revoked or never existed.
    async fn revoke_service_token(&self, id: Uuid) -> Result<bool, AuthError>;

    /// Every service token, oldest first (hashes are never returned).
    async fn list_service_tokens(&self) -> Result<Vec<ServiceTokenInfo>, AuthError>;

    /// Grants the admin role to the user owning `wallet`; false if they already had it.
    async fn grant_admin(&self, wallet: &str, granted_by: &str) -> Result<bool, AuthError>;

    /// The user a wallet address (any letter case) is linked to, if any.
    async fn wallet_owner(&self, address: &str) -> Result<Option<Uuid>, AuthError>;

    /// Removes the admin role from the user owning `wallet`; false if they did not hold it.
    async fn revoke_admin(&self, wallet: &str) -> Result<bool, AuthError>;

    /// Deletes challenges and sessions that ended more than `retention` ago.
    async fn purge_expired(&self, retention: Duration) -> Result<Purged, AuthError>;

    /// Operator provisioning: the user owning `wallet`, created (with the wallet) if none
    /// does. Returns the user id and whether it was created.
    async fn provision_wallet(
        &self,
        wallet: &str,
        chain_id: u64,
    ) -> Result<(Uuid, bool), AuthError>;
}
