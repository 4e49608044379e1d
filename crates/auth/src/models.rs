//! Rows of the tables the identity context owns.

use chrono::{DateTime, Utc};
use clones_db::schema::{
    auth_challenges, refresh_tokens, security_events, service_tokens, sessions, user_roles,
    user_wallets,
};
use diesel::prelude::*;
use uuid::Uuid;

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChallengePurpose {
    /// Sign in (or sign up) with a wallet.
    SignIn,
    /// Link another wallet to the signed-in user.
    LinkWallet,
}

impl ChallengePurpose {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengePurpose::SignIn => "sign_in",
            ChallengePurpose::LinkWallet => "link_wallet",
        }
    }
}

/// An issued SIWE challenge.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_challenges, check_for_backend(diesel::pg::Pg))]
pub struct ChallengeRow {
    pub nonce: String,
    pub purpose: String,
    pub address: String,
    pub chain_id: i64,
    pub requested_by: Option<Uuid>,
    pub message: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// A wallet linked to a user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_wallets, check_for_backend(diesel::pg::Pg))]
pub struct WalletRow {
    pub address: String,
    pub user_id: Uuid,
    pub chain_id: i64,
    pub linked_at: DateTime<Utc>,
}

/// A session, which is also a refresh-token family.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub wallet_address: String,
    pub created_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

/// One refresh token of a family.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
pub struct RefreshTokenRow {
    pub token_hash: Vec<u8>,
    pub session_id: Uuid,
    pub generation: i32,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A service token (the hash only).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ServiceTokenRow {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Option<String>>,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A role held by a user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_roles, check_for_backend(diesel::pg::Pg))]
pub struct RoleRow {
    pub user_id: Uuid,
    pub role: String,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
}

/// One entry of a user's security log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events, check_for_backend(diesel::pg::Pg))]
pub struct SecurityEventRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub session_id: Option<Uuid>,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}
